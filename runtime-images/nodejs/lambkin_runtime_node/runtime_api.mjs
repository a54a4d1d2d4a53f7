// The client of the Lambda Runtime API (2018-06-01): one kept-alive connection, no timeouts
// (`/next` is a long poll). A refused post (too large, already answered) ends only that
// invocation; a broken connection ends the runtime.
import http from "node:http";

const PREFIX = "/2018-06-01/runtime";

export class RuntimeApi {
  constructor(address) {
    const [host, port] = address.split(":");
    this.host = host;
    this.port = Number(port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  async next() {
    const { status, headers, body } = await this.request("GET", `${PREFIX}/invocation/next`);
    const requestId = headers["lambda-runtime-aws-request-id"];
    if (status !== 200 || !requestId) {
      throw new Error(`GET /invocation/next: status ${status}, no request id: ${body.toString()}`);
    }
    return {
      requestId,
      deadlineMs: Number(headers["lambda-runtime-deadline-ms"] || 0),
      invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
      traceId: headers["lambda-runtime-trace-id"],
      clientContext: headers["lambda-runtime-client-context"],
      cognitoIdentity: headers["lambda-runtime-cognito-identity"],
      tenantId: headers["lambda-runtime-aws-tenant-id"],
      body,
    };
  }

  postResponse(requestId, body) {
    return this.post(`${PREFIX}/invocation/${requestId}/response`, body, { "Content-Type": "application/json" });
  }

  postError(requestId, doc) {
    return this.post(`${PREFIX}/invocation/${requestId}/error`, ...errorPayload(doc));
  }

  postInitError(doc) {
    return this.post(`${PREFIX}/init/error`, ...errorPayload(doc));
  }

  async post(path, body, headers) {
    const answer = await this.request("POST", path, body, headers);
    if (answer.status < 200 || answer.status >= 300) {
      process.stderr.write(`[ERROR] Runtime API refused the result: POST ${path}: ${answer.status} ${answer.body.toString().slice(0, 300)}\n`);
    }
  }

  request(method, path, body, headers = {}) {
    return new Promise((resolve, reject) => {
      const request = http.request(
        { host: this.host, port: this.port, method, path, agent: this.agent,
          headers: body ? { ...headers, "Content-Length": body.length } : headers },
        (response) => {
          const chunks = [];
          response.on("data", (chunk) => chunks.push(chunk));
          response.on("end", () => resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) }));
          response.on("error", reject);
        },
      );
      request.on("error", reject);
      request.end(body);
    });
  }
}

function errorPayload(doc) {
  const body = Buffer.from(JSON.stringify(doc), "utf8");
  return [body, { "Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": String(doc.errorType) }];
}
