// Error documents and log lines, shaped as AWS's Node.js runtime shapes them.
import util from "node:util";

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

function logLine(log, level, message) {
  const text = `${new Date().toISOString()}\t${log.requestId || "undefined"}\t${level}\t${message.replace(/\n/g, "\r")}\n`;
  process.stdout.write(text);
}

// console.* write one line each, stamped like AWS's: `<ISO time>\t<request id>\t<LEVEL>\t<text>`.
export function installConsole() {
  const log = { requestId: "" };
  const levels = { log: "INFO", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG", trace: "TRACE" };
  for (const [method, level] of Object.entries(levels)) {
    console[method] = (...args) => logLine(log, level, util.format(...args));
  }
  return log;
}

export function logError(phase, doc, log) {
  logLine(log, "ERROR", `${phase} \t${JSON.stringify(doc)}`);
}
