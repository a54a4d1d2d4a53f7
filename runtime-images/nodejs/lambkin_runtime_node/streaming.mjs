// Response streaming, as AWS's Node.js runtime (aws-lambda-ric) offers it: the global
// `awslambda` with `streamifyResponse(handler, {highWaterMark})` and `HttpResponseStream.from`,
// and a response stream that POSTs /response with Lambda-Runtime-Function-Response-Mode:
// streaming, chunked, each write sent as it is made; an error mid-stream ends it with the
// trailers Lambda-Runtime-Function-Error-Type and -Error-Body (base64 of the error document).
import http from "node:http";
import net from "node:net";
import { errorDocument } from "./errors.mjs";

const HANDLER_STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const HANDLER_HIGHWATERMARK = Symbol.for("aws.lambda.runtime.handler.streaming.highWaterMark");
const STREAM_RESPONSE = "response";
const TRAILER_ERROR_TYPE = "Lambda-Runtime-Function-Error-Type";
const TRAILER_ERROR_BODY = "Lambda-Runtime-Function-Error-Body";
const METADATA_PRELUDE_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response";
const DELIMITER_LEN = 8;

class RuntimeError extends Error {
  constructor(type, message) {
    super(message);
    this.name = type;
  }
}

export class HttpResponseStream {
  // The metadata prelude (statusCode, headers, cookies) as JSON, then 8 NUL bytes, before the
  // body's first byte; the content type tells the function URL to read it so.
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(METADATA_PRELUDE_CONTENT_TYPE);
    const metadataPrelude = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadataPrelude);
      write(new Uint8Array(DELIMITER_LEN));
    };
    return underlyingStream;
  }
}

// globalThis.awslambda, unless AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA is 1 or true (as AWS's).
export function installAwsLambdaGlobal() {
  const off = process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (off === "1" || off === "true") return;
  globalThis.awslambda = {
    streamifyResponse: (handler, options) => {
      handler[HANDLER_STREAMING] = STREAM_RESPONSE;
      if (typeof options?.highWaterMark === "number") {
        handler[HANDLER_HIGHWATERMARK] = parseInt(options.highWaterMark);
      }
      return handler;
    },
    HttpResponseStream,
  };
}

// {streaming, highWaterMark} of a loaded handler; a marker other than "response" is an init
// error (Runtime.MalformedStreamingHandler), as on AWS.
export function handlerMetadata(handler) {
  const mark = handler[HANDLER_STREAMING];
  let streaming = false;
  if (mark !== undefined && mark !== null && mark !== false) {
    if (mark !== STREAM_RESPONSE) {
      throw new RuntimeError("Runtime.MalformedStreamingHandler", "Only response streaming is supported.");
    }
    streaming = true;
  }
  const hwm = parseInt(handler[HANDLER_HIGHWATERMARK]);
  return { streaming, highWaterMark: isNaN(hwm) ? undefined : hwm };
}

// The response stream of one invocation: a Writable (the POST itself), so `write`, `end`,
// `stream.pipeline` all work; `setContentType` before the first write. Returns the stream,
// `fail(error)` and `done` (the Runtime API's answer, once the stream ended).
export function createResponseStream(api, requestId, highWaterMark) {
  let written = false;
  const agent = new http.Agent({ keepAlive: false, maxSockets: 1 });
  if (highWaterMark !== undefined) {
    agent.createConnection = (options, listener) => net.createConnection({ ...options, highWaterMark }, listener);
  }
  let resolveDone;
  let rejectDone;
  const done = new Promise((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  const request = http.request({
    host: api.host,
    port: api.port,
    method: "POST",
    path: `/2018-06-01/runtime/invocation/${encodeURIComponent(requestId)}/response`,
    agent,
    headers: {
      "Lambda-Runtime-Function-Response-Mode": "streaming",
      Trailer: [TRAILER_ERROR_TYPE, TRAILER_ERROR_BODY],
      "Content-Type": "application/octet-stream",
    },
  }, (response) => {
    const chunks = [];
    response.on("data", (chunk) => chunks.push(chunk));
    response.on("end", () => {
      if (response.statusCode !== 202) {
        process.stderr.write(`[ERROR] Runtime API refused the streamed response: ${response.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}\n`);
      }
      resolveDone(response.statusCode);
    });
    response.on("aborted", (error) => rejectDone(error));
  });
  request.on("error", (error) => {
    rejectDone(error);
    request.destroy(error);
  });
  request.setContentType = (contentType) => {
    if (written) throw new RuntimeError("Runtime.InvalidStreamingOperation", "Cannot set content-type, too late.");
    request.setHeader("Content-Type", contentType);
  };
  const write = request.write.bind(request);
  request.write = (chunk, encoding, callback) => {
    if (typeof chunk !== "string" && !Buffer.isBuffer(chunk) && chunk?.constructor !== Uint8Array) {
      chunk = JSON.stringify(chunk);
    }
    if (!written && typeof request._onBeforeFirstWrite === "function") {
      request._onBeforeFirstWrite((part) => write(part));
    }
    written = true;
    return write(chunk, encoding, callback);
  };
  const fail = (error) => {
    const doc = errorDocument(error);
    if (request.writableEnded) return;
    request.addTrailers({
      [TRAILER_ERROR_TYPE]: doc.errorType,
      [TRAILER_ERROR_BODY]: Buffer.from(JSON.stringify(doc)).toString("base64"),
    });
    request.end();
  };
  done.catch(() => {}); // a broken connection is reported by whoever awaits it
  return { stream: request, fail, done };
}
