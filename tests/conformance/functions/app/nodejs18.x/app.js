// The conformance app: one operation per event.op (see tests/conformance/test_runtimes.py).
const fs = require("node:fs");
const path = require("node:path");

let invocations = 0;
const startedAt = Date.now() / 1000;

exports.handler = async (event, context) => {
  invocations += 1;
  const op = event && typeof event === "object" ? event.op : undefined;
  switch (op) {
    case "types":
      return [undefined, new Date(0), Buffer.from("hi"), null, true];
    case "context":
      return {
        awsRequestId: context.awsRequestId,
        functionName: context.functionName,
        functionVersion: context.functionVersion,
        memoryLimitInMB: String(context.memoryLimitInMB),
        invokedFunctionArn: context.invokedFunctionArn,
        logGroupName: context.logGroupName,
        logStreamName: context.logStreamName,
        remainingMs: context.getRemainingTimeInMillis(),
      };
    case "env":
      return Object.fromEntries(event.names.map((name) => [name, process.env[name] ?? null]));
    case "tmp": {
      const file = path.join("/tmp", event.name);
      fs.writeFileSync(file, event.text, "utf8");
      const text = fs.readFileSync(file, "utf8");
      fs.unlinkSync(file);
      return { text };
    }
    case "count":
      return { invocations, pid: process.pid, startedAt };
    case "fail":
      throw new TypeError(event.message);
    case "sleep":
      await new Promise((resolve) => setTimeout(resolve, event.seconds * 1000));
      return "woke up";
    case "exit":
      process.exit(3);
    case "log":
      console.log(`to stdout ${event.marker}`);
      process.stderr.write(`to stderr ${event.marker}\n`);
      return "logged";
    default:
      return event;
  }
};
