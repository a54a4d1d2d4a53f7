// A Node.js streaming handler behind a RESPONSE_STREAM function URL (test_function_urls.py).
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  if (event.rawPath === "/fail-early") throw new Error("before any byte");
  if (event.rawPath === "/plain") {
    responseStream.setContentType("text/plain");
    responseStream.write("first ");
    await sleep(1000);
    responseStream.end("second");
    return;
  }
  const stream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 201,
    headers: { "content-type": "text/plain", "x-custom": "yes" },
    cookies: ["a=1", "b=2"],
  });
  stream.write("chunk-1 ");
  await sleep(1000);
  stream.write("chunk-2 ");
  stream.end(event.rawQueryString);
});
