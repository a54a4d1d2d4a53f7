// Handler forms of AWS's Node.js runtime, each named by the handler string that reaches it.
export const handlers = {
  // forms.handlers.nested: a nested export path
  nested: async (event) => ({ form: "esm-nested", event }),
};

// forms.callback: the callback waits for the event loop to empty (the timer's flag is set first)
export function callback(event, context, done) {
  const state = { timerRan: false };
  setTimeout(() => { state.timerRan = true; }, 50);
  done(null, state); // serialised only after the timer ran: AWS's default
}

// forms.callbackNoWait: callbackWaitsForEmptyEventLoop = false answers at once
export function callbackNoWait(event, context, done) {
  context.callbackWaitsForEmptyEventLoop = false;
  const state = { timerRan: false };
  setTimeout(() => { state.timerRan = true; }, 2000);
  done(null, state);
}

// forms.callbackError: an error passed to the callback
export function callbackError(event, context, done) {
  done(new RangeError("out of range"));
}
