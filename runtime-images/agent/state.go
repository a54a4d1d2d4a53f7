package main

// The runtime's lifecycle as the agent sees it: a state enum and a literal transition table
// (state.py's, plus vacant).
//
//	vacant --specialise--> initializing                (an instance started with no function)
//	initializing --first /next--> ready --event delivered--> busy --response/error--> ready
//	initializing --init error / exit / init timeout--> failed --next invoke--> initializing
//	ready / busy --exit, timeout (restart at once)--> initializing
//	any but stopped --shutdown--> stopped
//
// Every transition not in the table is refused. The sandbox's lock guards the machine.

type runtimeState string

const (
	stateVacant       runtimeState = "vacant"       // no function yet: waits for /specialise, runs nothing
	stateInitializing runtimeState = "initializing" // started, no /next yet; bounded by the init timeout
	stateReady        runtimeState = "ready"        // init done, no event held by the runtime
	stateBusy         runtimeState = "busy"         // the runtime holds an event; bounded by the function timeout
	stateFailed       runtimeState = "failed"       // init failed; restarted lazily by the next invoke
	stateStopped      runtimeState = "stopped"      // shut down; terminal
)

var allStates = []runtimeState{stateVacant, stateInitializing, stateReady, stateBusy, stateFailed, stateStopped}

var transitions = map[runtimeState][]runtimeState{
	stateVacant:       {stateInitializing, stateStopped},
	stateInitializing: {stateReady, stateFailed, stateStopped},
	stateReady:        {stateBusy, stateInitializing, stateStopped},
	stateBusy:         {stateReady, stateInitializing, stateStopped},
	stateFailed:       {stateInitializing, stateStopped},
	stateStopped:      {},
}

type stateMachine struct {
	state runtimeState
}

func (m *stateMachine) can(target runtimeState) bool {
	for _, allowed := range transitions[m.state] {
		if allowed == target {
			return true
		}
	}
	return false
}

// transition panics on an illegal move: each caller checks its preconditions first, so a
// refused transition is a bug in the agent, never something a runtime or caller can cause.
func (m *stateMachine) transition(target runtimeState) {
	if !m.can(target) {
		panic("runtime state " + string(m.state) + " -> " + string(target) + " is not allowed")
	}
	m.state = target
}
