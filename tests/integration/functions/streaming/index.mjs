// A Node.js streaming handler (awslambda.streamifyResponse), for test_response_streaming.py.
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  console.log(`streaming mode=${event.mode}`);
  if (event.mode === "http") {
    const stream = awslambda.HttpResponseStream.from(responseStream, {
      statusCode: 201,
      headers: { "x-custom": "yes" },
      cookies: ["a=1"],
    });
    stream.write("body");
    stream.end();
    return;
  }
  if (event.mode === "pipeline") {
    await pipeline(Readable.from(["p1 ", "p2 ", "p3"]), responseStream);
    return;
  }
  responseStream.setContentType("text/plain");
  responseStream.write("first ");
  await sleep(event.sleepMs ?? 1000);
  if (event.mode === "fail") throw new Error("boom mid-stream");
  if (event.mode === "endless") {
    const block = "x".repeat(65536);
    for (;;) {
      if (!responseStream.write(block)) await new Promise((resolve) => responseStream.once("drain", resolve));
    }
  }
  responseStream.write("second ");
  responseStream.end("third");
});
