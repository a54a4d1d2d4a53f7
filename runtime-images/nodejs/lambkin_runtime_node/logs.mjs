// console.* and the runtime's own error logs, as aws-lambda-ric 3.x's LogPatch writes them.
//
// AWS_LAMBDA_LOG_FORMAT=JSON (any case): one JSON object per call, `timestamp, level,
// requestId[, tenantId], message`; one argument is kept as it is (an Error in it becomes
// `{errorType, errorMessage, stackTrace, ...its own properties}`), several are `util.format`ted
// and the first Error among them adds `errorType, errorMessage, stackTrace` to the record.
// Otherwise text: `<ISO time>\t<request id>\t<LEVEL>\t<util.format(...)>`.
// AWS_LAMBDA_LOG_LEVEL (TRACE when unset or unknown) turns the methods below it into no-ops, in
// either format; console.log is console.info, console.fatal is added and never filtered.
// A record stays one line (one log event): newlines in it are written as `\r`.
import util from "node:util";

const REQUEST_ID = Symbol.for("aws.lambda.runtime.requestId");
const TENANT_ID = Symbol.for("aws.lambda.runtime.tenantId");

const LEVELS = Object.freeze({ TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 });
const METHODS = [
  ["trace", "TRACE"],
  ["debug", "DEBUG"],
  ["info", "INFO"],
  ["warn", "WARN"],
  ["error", "ERROR"],
];

// The request (and tenant) the records are stamped with, where aws-lambda-ric keeps them.
export const logContext = {
  set requestId(id) {
    globalThis[REQUEST_ID] = id;
  },
  get requestId() {
    return globalThis[REQUEST_ID];
  },
  set tenantId(id) {
    globalThis[TENANT_ID] = id;
  },
  get tenantId() {
    return globalThis[TENANT_ID];
  },
};

function errorType(error) {
  return error?.constructor?.name ?? "UnknownError";
}

function jsonErrorReplacer(_key, value) {
  if (value instanceof Error) {
    const stackTrace = typeof value.stack === "string" ? value.stack.split("\n") : value.stack;
    return Object.assign({ errorType: errorType(value), errorMessage: value.message, stackTrace }, value);
  }
  return value;
}

export function jsonRecord(level, timestamp, requestId, tenantId, params) {
  const record = { timestamp, level, requestId };
  if (tenantId !== undefined && tenantId !== null) record.tenantId = tenantId;
  if (params.length === 1) {
    record.message = params[0];
    try {
      return JSON.stringify(record, jsonErrorReplacer);
    } catch {
      record.message = util.format(record.message); // circular, BigInt, a throwing toJSON
      return JSON.stringify(record);
    }
  }
  record.message = util.format(...params);
  const error = params.find((param) => param instanceof Error);
  if (error) {
    record.errorType = errorType(error);
    record.errorMessage = error.message;
    record.stackTrace = typeof error.stack === "string" ? error.stack.split("\n") : [];
  }
  return JSON.stringify(record);
}

function textRecord(level, timestamp, requestId, params) {
  return `${timestamp}\t${requestId}\t${level}\t${util.format(...params)}`;
}

function writer(json, write) {
  return (level, params) => {
    const timestamp = new Date().toISOString();
    const { requestId, tenantId } = logContext;
    const line = json ? jsonRecord(level, timestamp, requestId, tenantId, params) : textRecord(level, timestamp, requestId, params);
    write(`${line.replace(/\n/g, "\r")}\n`);
  };
}

// An Error as the text format's error logs show it: a tab, then its JSON with its name,
// message, code and own properties, and `stack` as lines.
function formattedError(error) {
  try {
    return `\t${JSON.stringify(error, (_key, value) => withEnumerableProperties(value))}`;
  } catch {
    const stack = typeof error.stack === "string" ? error.stack.split("\n") : [];
    return `\t${JSON.stringify({ errorType: error.name, errorMessage: error.message, trace: stack })}`;
  }
}

function withEnumerableProperties(value) {
  if (!(value instanceof Error)) return value;
  const out = Object.assign({ errorType: value.name, errorMessage: value.message, code: value.code }, value);
  if (typeof value.stack === "string") out.stack = value.stack.split("\n");
  return out;
}

const intoError = (error) => (error instanceof Error ? error : new Error(error));

// Patch console from `env`; returns `logError(phase, error)`, which logs a failure of the
// runtime's ("Invoke Error", "Uncaught Exception", ...) through console.error, as the RIC does.
export function installConsole(env = process.env, write = (text) => process.stdout.write(text)) {
  const json = String(env.AWS_LAMBDA_LOG_FORMAT ?? "").toUpperCase() === "JSON";
  const threshold = LEVELS[String(env.AWS_LAMBDA_LOG_LEVEL ?? "").toUpperCase()] ?? LEVELS.TRACE;
  const log = writer(json, write);
  const nop = () => {};
  for (const [method, level] of METHODS) {
    // (message, ...rest): a call with no argument logs `undefined`, as the RIC's methods do.
    console[method] = LEVELS[level] >= threshold ? (message, ...rest) => log(level, [message, ...rest]) : nop;
    if (method === "info") console.log = console[method];
  }
  console.fatal = (message, ...rest) => log("FATAL", [message, ...rest]);
  if (json) return (_phase, error) => console.error(intoError(error));
  return (phase, error) => console.error(phase, formattedError(intoError(error)));
}
