// Lambkin's Node.js runtime client: `node /var/runtime/lambkin_runtime_node/index.mjs`.
//
// Plain Node, no npm dependencies. It speaks the Lambda Runtime API (2018-06-01) at
// $AWS_LAMBDA_RUNTIME_API and behaves, as seen from the API and the logs, like AWS's Node.js
// runtime: handler `file.export` (also `dir/file.a.b`), async and callback handlers
// (context.callbackWaitsForEmptyEventLoop), CommonJS and ES modules, AWS's context object,
// error documents `{errorType, errorMessage, trace}`, console lines and LoggingConfig JSON records
// as aws-lambda-ric writes them (logs.mjs).
import { loadHandler } from "./loader.mjs";
import { RuntimeApi } from "./runtime_api.mjs";
import { makeContext } from "./context.mjs";
import { errorDocument, UnhandledPromiseRejection } from "./errors.mjs";
import { installConsole, logContext } from "./logs.mjs";
import { createResponseStream, handlerMetadata, installAwsLambdaGlobal } from "./streaming.mjs";

const TRACE_ID = "_X_AMZN_TRACE_ID";

async function main() {
  const address = process.env.AWS_LAMBDA_RUNTIME_API;
  if (!address) {
    process.stderr.write("lambkin_runtime_node: AWS_LAMBDA_RUNTIME_API is not set\n");
    process.exit(2);
  }
  const api = new RuntimeApi(address);
  const logError = installConsole();
  installAwsLambdaGlobal(); // before the function's module is loaded, as AWS's runtime does
  const current = { requestId: null, failed: false };
  // As aws-lambda-ric: a promise rejected with no handler fails the running invocation (or init)
  // as Runtime.UnhandledPromiseRejection, and the process exits 128; the next event starts anew.
  process.on("unhandledRejection", (reason, promise) => {
    if (current.failed) return;
    current.failed = true;
    const error = new UnhandledPromiseRejection(reason, promise);
    logError("Unhandled Promise Rejection", error);
    const doc = errorDocument(error);
    const posted = current.requestId ? api.postError(current.requestId, doc) : api.postInitError(doc);
    posted.finally(() => process.exit(128));
  });
  let handler;
  let metadata;
  try {
    handler = await loadHandler(process.env.LAMBDA_TASK_ROOT || process.cwd(), process.argv[2] || process.env._HANDLER || "");
    metadata = handlerMetadata(handler);
  } catch (error) {
    // aws-lambda-ric's failed load rejects its top-level await: an uncaught exception.
    logError("Uncaught Exception", error);
    const doc = errorDocument(error);
    await api.postInitError(doc);
    process.exit(1);
  }
  for (;;) {
    const invocation = await api.next();
    current.requestId = invocation.requestId;
    logContext.requestId = invocation.requestId;
    logContext.tenantId = invocation.tenantId;
    if (invocation.traceId) process.env[TRACE_ID] = invocation.traceId;
    else delete process.env[TRACE_ID];
    if (metadata.streaming) {
      await invokeStreaming(api, handler, invocation, metadata, logError);
      continue;
    }
    const outcome = await invoke(handler, invocation);
    if (current.failed) return; // an unhandled rejection answered this invocation
    if (outcome.error !== undefined) {
      logError("Invoke Error", outcome.error);
      const doc = errorDocument(outcome.error);
      await api.postError(invocation.requestId, doc);
    } else {
      let body;
      try {
        body = encodeResult(outcome.value);
      } catch (error) {
        logError("Invoke Error", error);
        const doc = errorDocument(error);
        doc.errorType = "Runtime.MarshalError";
        await api.postError(invocation.requestId, doc);
        continue;
      }
      await api.postResponse(invocation.requestId, body);
    }
  }
}

// One invocation: {value} or {error}, once the handler's promise settles or its callback is
// called (then, unless context.callbackWaitsForEmptyEventLoop is false, once the event loop is
// empty). A handler that neither returns a promise nor calls back answers null when the event
// loop empties, as on AWS.
function invoke(handler, invocation) {
  return new Promise((resolve) => {
    let settled = false;
    let context;
    const onEmptyLoop = () => finish({ value: undefined }, false);
    const finish = (outcome, waitForEmptyLoop) => {
      if (settled) return;
      settled = true;
      process.removeListener("beforeExit", onEmptyLoop);
      if (waitForEmptyLoop) process.once("beforeExit", () => resolve(outcome));
      else resolve(outcome);
    };
    const callback = (error, value) => {
      const waits = context ? context.callbackWaitsForEmptyEventLoop : true;
      finish(error !== undefined && error !== null ? { error } : { value }, waits);
    };
    try {
      const event = decodeEvent(invocation.body);
      context = makeContext(invocation, callback);
      const result = handler(event, context, callback);
      if (result && typeof result.then === "function") {
        result.then((value) => finish({ value }, false), (error) => finish({ error: error ?? new Error("null") }, false));
      } else if (!settled) {
        process.once("beforeExit", onEmptyLoop);
      }
    } catch (error) {
      finish({ error }, false);
    }
  });
}

// A streamed invocation, as aws-lambda-ric runs one: the handler gets (event, responseStream,
// context) and must be async; whatever it throws, or a stream it leaves unfinished, ends the
// stream with the error trailers. The next event is fetched once the Runtime API answered (and,
// unless context.callbackWaitsForEmptyEventLoop is false, once the event loop is empty).
async function invokeStreaming(api, handler, invocation, metadata, logError) {
  const { stream, fail, done } = createResponseStream(api, invocation.requestId, metadata.highWaterMark);
  const context = makeContext(invocation, () => {});
  const failWith = (error) => {
    logError("Invoke Error", error);
    fail(error);
  };
  try {
    const event = decodeEvent(invocation.body);
    const result = handler(event, stream, context);
    if (!result || typeof result.then !== "function") {
      failWith("Streaming does not support non-async handlers.");
    } else {
      if ((await result) !== undefined) console.warn("Streaming handlers ignore return values.");
      await done;
      if (!stream.writableFinished) failWith("Response stream is not finished.");
    }
  } catch (error) {
    failWith(error);
  }
  try {
    await done;
  } catch (error) {
    process.stderr.write(`[ERROR] streamed response failed: ${error && error.message}\n`);
  }
  if (context.callbackWaitsForEmptyEventLoop) await new Promise((resolve) => process.once("beforeExit", resolve));
}

function decodeEvent(body) {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    const fault = new Error(`Unexpected input: ${error.message}`);
    fault.name = "Runtime.UnmarshalError";
    throw fault;
  }
}

function encodeResult(value) {
  const text = JSON.stringify(value === undefined ? null : value);
  return Buffer.from(text === undefined ? "null" : text, "utf8");
}

main().catch((error) => {
  process.stderr.write(`lambkin_runtime_node: fatal: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
