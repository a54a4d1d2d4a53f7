// Error documents, shaped as AWS's Node.js runtime shapes them (its log lines: logs.mjs).

// {errorType, errorMessage, trace}: an Error's name, message and stack lines; anything else
// thrown is reported under its type ("string", "number", ...).
export function errorDocument(error) {
  if (error instanceof Error || (error && typeof error === "object" && "message" in error)) {
    const stack = typeof error.stack === "string" ? error.stack.split("\n") : [];
    return {
      errorType: error.name || (error.constructor && error.constructor.name) || "Error",
      errorMessage: String(error.message ?? ""),
      trace: stack,
    };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

// Its name and message as aws-lambda-ric's: `new Error(reason)` named Runtime.UnhandledPromiseRejection,
// keeping the reason and the promise (which its error log shows).
export class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
UnhandledPromiseRejection.prototype.name = "Runtime.UnhandledPromiseRejection";
