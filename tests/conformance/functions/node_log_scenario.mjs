// One sequence of console calls and runtime error logs, written to stdout by either log patch:
//   node node_log_scenario.mjs ours <runtime-images/nodejs/lambkin_runtime_node>
//   node node_log_scenario.mjs oracle <aws-lambda-ric's bundle, exporting LogPatch and Errors>
// The patch reads AWS_LAMBDA_LOG_FORMAT / AWS_LAMBDA_LOG_LEVEL from the environment. Every
// Error logged is made here, so that both runs show the same stacks.
import path from "node:path";
import { pathToFileURL } from "node:url";

const [which, where] = process.argv.slice(2);

async function patch() {
  if (which === "oracle") {
    const { LogPatch, Errors } = await import(pathToFileURL(where).href);
    LogPatch.patchConsole();
    return {
      logError: LogPatch.structuredConsole.logError, // no frame of ours in its stacks
      setIds: (requestId, tenantId) => {
        LogPatch.setCurrentRequestId(requestId);
        LogPatch.setCurrentTenantId(tenantId);
      },
      UnhandledPromiseRejection: Errors.UnhandledPromiseRejection,
    };
  }
  const logs = await import(pathToFileURL(path.join(where, "logs.mjs")).href);
  const errors = await import(pathToFileURL(path.join(where, "errors.mjs")).href);
  const logError = logs.installConsole();
  return {
    logError,
    setIds: (requestId, tenantId) => {
      logs.logContext.requestId = requestId;
      logs.logContext.tenantId = tenantId;
    },
    UnhandledPromiseRejection: errors.UnhandledPromiseRejection,
  };
}

class PaymentError extends Error {}

const { logError, setIds, UnhandledPromiseRejection } = await patch();

console.log("before any invocation");
setIds("c0ffee00-1111-2222-3333-444455556666", undefined);
console.log("plain string");
console.log("format %s, %d, %i, %j and %o", "text", 42.5, 7.9, { j: 1 }, { o: [1] });
console.log("%s left over", "one", "two", 3);
console.info({ order: 7, items: ["a", "b"], nested: { deep: true } });
console.warn("two args", { k: "v" });
console.debug("line one\nline two");
console.trace("trace %s", "message");
console.fatal("fatal record");
console.log();
console.log(null);
console.log(undefined, "after undefined");
console.log(12, true);
console.log(["an", "array"]);
console.log(10n);
const circular = { name: "loop" };
circular.self = circular;
console.log(circular);
const bad = new TypeError("bad input");
bad.code = "E_BAD";
console.error(bad);
console.error("failed:", bad, "and more");
console.error(new PaymentError("card declined"));
console.info({ wrapped: new RangeError("inner") });
const noStack = new Error("no stack");
noStack.stack = undefined;
console.warn(noStack);
console.warn("no stack:", noStack);

logError("Invoke Error", new Error("handler failed"));
logError("Invoke Error", bad);
logError("Invoke Error", "a string was thrown");
logError("Uncaught Exception", new PaymentError("init failed"));
logError("Unhandled Promise Rejection", new UnhandledPromiseRejection(new Error("nobody caught this"), new Promise(() => {})));
logError("Unhandled Promise Rejection", new UnhandledPromiseRejection("a string reason", new Promise(() => {})));

setIds("c0ffee00-7777-8888-9999-aaaabbbbcccc", "tenant-blue");
console.log("with a tenant");
console.error("with a tenant", bad);
