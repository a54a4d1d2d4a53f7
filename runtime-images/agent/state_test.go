package main

import "testing"

// Walks every (from, to) pair: exactly the table's pairs are allowed.
func TestEveryTransitionPair(t *testing.T) {
	allowed := map[[2]runtimeState]bool{
		{stateVacant, stateInitializing}: true, {stateVacant, stateStopped}: true,
		{stateInitializing, stateReady}: true, {stateInitializing, stateFailed}: true,
		{stateInitializing, stateStopped}: true, {stateReady, stateBusy}: true,
		{stateReady, stateInitializing}: true, {stateReady, stateStopped}: true,
		{stateBusy, stateReady}: true, {stateBusy, stateInitializing}: true,
		{stateBusy, stateStopped}: true, {stateFailed, stateInitializing}: true,
		{stateFailed, stateStopped}: true,
	}
	for _, from := range allStates {
		for _, to := range allStates {
			m := stateMachine{from}
			want := allowed[[2]runtimeState{from, to}]
			if m.can(to) != want {
				t.Errorf("%s -> %s: can = %v, want %v", from, to, !want, want)
			}
			func() {
				defer func() {
					if refused := recover() != nil; refused == want {
						t.Errorf("%s -> %s: refused = %v", from, to, refused)
					}
				}()
				m.transition(to)
				if m.state != to {
					t.Errorf("%s -> %s: state is %s", from, to, m.state)
				}
			}()
		}
	}
}
