// The console end to end in a real browser: sign in, create a function from a zip, invoke it
// from the Test tab (with a saved test event) and read its log line and REPORT, change its
// memory, see its instance, follow its logs while another tab invokes it, see its metrics, and
// replay a dead letter. Any error in the browser's console (or an uncaught page error) fails the
// run. Each step prints one line.
//
// Environment: PLAYWRIGHT_CORE (its index.mjs), CHROMIUM, BROWSER_PROFILE (an empty folder),
// CONSOLE_URL, ACCESS_KEY, SECRET_KEY, ZIP_PATH, FUNCTION_NAME, EXPECT_LOG, DLQ_FUNCTION,
// DLQ_REQUEST_ID, SCREENSHOTS (optional).
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";

const { chromium } = await import(pathToFileURL(process.env.PLAYWRIGHT_CORE).href);
const base = process.env.CONSOLE_URL;
const name = process.env.FUNCTION_NAME;
const shots = process.env.SCREENSHOTS;
const problems = [];

const context = await chromium.launchPersistentContext(process.env.BROWSER_PROFILE, {
  executablePath: process.env.CHROMIUM,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  viewport: { width: 1280, height: 900 },
});
const page = context.pages()[0] ?? (await context.newPage());
page.on("console", (message) => {
  if (message.type() === "error") {
    problems.push(`console error: ${message.text()} (${message.location().url})`);
  }
});
page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
page.setDefaultTimeout(30_000);

function step(text) {
  console.log(`step: ${text}`);
}

async function shot(file) {
  await everyControlLabelled();
  if (shots) await page.screenshot({ path: `${shots}/${file}`, fullPage: true });
}

// Every control a keyboard or a screen reader reaches has a name: a <label>, an aria-label, or
// (a button) its text.
async function everyControlLabelled() {
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll("input:not([type=hidden]), select, textarea, button")]
      .filter(
        (el) =>
          !(el.labels && el.labels.length) &&
          !el.getAttribute("aria-label") &&
          !(el.tagName === "BUTTON" && el.textContent.trim()),
      )
      .map((el) => el.outerHTML.slice(0, 120)),
  );
  assert.deepEqual(unnamed, [], `controls without a name on ${page.url()}`);
}

try {
  if (process.env.OPEN_SERVER) {
    step("an open loopback server needs no sign-in");
    await page.goto(`${base}/console`);
    await page.getByRole("heading", { name: "Functions", level: 1 }).waitFor();
    assert.equal(await page.getByRole("button", { name: "Sign out" }).count(), 0);
  } else {
    step("an unsigned browser is sent to sign in");
    await page.goto(`${base}/console`);
    assert.match(new URL(page.url()).pathname, /\/console\/sign-in$/);

    step("a wrong secret is refused with what to do");
    await page.getByLabel("Access key id").fill(process.env.ACCESS_KEY);
    await page.getByLabel("Secret access key").fill("not-the-secret-at-all");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "not valid here" }).waitFor();
    problems.splice(0); // the 401 of that refusal is the browser's own console line, expected

    step("signing in with the keyboard alone opens the functions list");
    await everyControlLabelled();
    await page.getByLabel("Access key id").fill("");
    await page.getByLabel("Access key id").focus();
    await page.keyboard.type(process.env.ACCESS_KEY);
    await page.keyboard.press("Tab");
    await page.keyboard.type(process.env.SECRET_KEY);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Functions", level: 1 }).waitFor();
    await everyControlLabelled();
  }

  step("create a function by uploading its zip");
  await page.getByText("Create a function").click();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Handler").fill("console_fn.handler");
  await page.getByLabel("Code (.zip)").setInputFiles(process.env.ZIP_PATH);
  await page.getByRole("button", { name: "Create" }).click();
  await page.getByRole("heading", { name, level: 1 }).waitFor();

  step("the new function is in the list, found by search");
  await page.goto(`${base}/console/functions`);
  await page.getByLabel("Search functions").fill(name.slice(0, 12));
  await page.getByRole("link", { name }).waitFor();
  await page.getByRole("link", { name }).click();
  await page.getByRole("heading", { name, level: 1 }).waitFor();

  step("invoke from the Test tab: result, log line, REPORT");
  await page.getByLabel("Event (JSON)").fill('{"who": "console"}');
  await page.getByRole("button", { name: "Invoke" }).click();
  const result = page.getByLabel("Result");
  await result.waitFor();
  assert.match(await result.textContent(), /hello console/);
  const tail = await page.getByLabel("Log tail").textContent();
  assert.ok(tail.includes(process.env.EXPECT_LOG), `log tail: ${tail}`);
  assert.match(tail, /REPORT RequestId: /);
  const report = await page.getByLabel("Report").textContent();
  assert.match(report, /Duration\s*[0-9.]+ ms/);
  assert.match(report, /Max memory used\s*[0-9]+ MB/);
  await shot("console-function-test.png");

  step("save the event, reload, and invoke it again from the saved list");
  await page.getByLabel("Save this event as").fill("from-console");
  await page.getByRole("button", { name: "Save event" }).click();
  await page.reload();
  await page.getByLabel("Saved test events (kept in this browser)").selectOption("from-console");
  assert.equal(await page.getByLabel("Event (JSON)").inputValue(), '{"who": "console"}');
  await page.getByRole("button", { name: "Invoke" }).click();
  await page.getByLabel("Result").filter({ hasText: "hello console" }).waitFor();

  step("logs of one request id: its START, printed line, END and REPORT, nothing else");
  const rid = (await page.getByLabel("Report").locator("dd").first().textContent()).trim();
  await page.goto(`${base}/console/logs?function=${name}&request_id=${rid}&follow=true`);
  const lines = page.locator("#log-rows tr");
  await lines.filter({ hasText: `REPORT RequestId: ${rid}` }).waitFor();
  const texts = (await lines.allTextContents()).map((t) => t.trim().replace(/\s+/g, " "));
  // A line the function printed is found by the request id it was printed under (Lambkin's
  // extension of filter terms), so the request's own four lines and nothing else.
  assert.equal(texts.length, 4, `${texts}`);
  assert.ok(texts[1].endsWith("console log line console"), `${texts}`);
  await page.goto(`${base}/console/functions/${name}`);

  step("the instances page lists the function's instance, live");
  await page.getByRole("link", { name: "Instances" }).click();
  await page.getByRole("heading", { name: "Instances", level: 1 }).waitFor();
  await page.locator("#instance-rows tr", { hasText: name }).first().waitFor();
  await shot("console-instances.png");
  await page.goto(`${base}/console/functions/${name}`);

  step("upload new code (4 MB) with progress; the next invocation runs it");
  await page.evaluate(() => {
    document.addEventListener("htmx:xhr:progress", (event) => {
      const seen = JSON.parse(sessionStorage.getItem("progress") || "[]");
      seen.push(Math.round((100 * event.detail.loaded) / event.detail.total));
      sessionStorage.setItem("progress", JSON.stringify(seen));
    });
  });
  await page.getByLabel("New code (.zip)").setInputFiles(process.env.NEW_ZIP_PATH);
  // The answer reloads the page (HX-Redirect): until then this is the page of the old code.
  const reloaded = page.waitForNavigation({ waitUntil: "load", timeout: 60_000 });
  await page.getByRole("button", { name: "Upload" }).click();
  await reloaded;
  await page.waitForFunction(() => JSON.parse(sessionStorage.getItem("progress") || "[]").includes(100));
  await page.getByRole("heading", { name, level: 1 }).waitFor();
  // As on AWS, invocations run the old code until the update is done: the page says when.
  for (let tries = 0; !(await page.locator("#state").textContent()).includes("Successful"); tries++) {
    assert.ok(tries < 100, "the code update never finished");
    await page.waitForTimeout(200);
    await page.reload();
  }
  await page.getByLabel("Event (JSON)").fill('{"who": "v2"}');
  await page.getByRole("button", { name: "Invoke" }).click();
  await page.getByLabel("Result").waitFor();
  const v2 = await page.getByLabel("Result").textContent();
  assert.ok(v2.includes("hello again v2"), `after the upload the function answered ${v2}`);

  step("change the memory to 256 MB");
  await page.getByLabel("Memory (MB)").fill("256");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.locator("#memory").filter({ hasText: "256 MB" }).waitFor();

  step("logs: the function's line, by filter pattern, then followed while another tab invokes");
  await page.getByRole("link", { name: "Logs" }).click();
  await page.getByLabel("Function").fill(name);
  await page.getByLabel(/Filter pattern/).fill('"console log line"');
  await page.getByRole("button", { name: "Show" }).click();
  await page.locator("#log-rows tr", { hasText: process.env.EXPECT_LOG }).first().waitFor();
  assert.equal(await page.locator("#log-rows tr", { hasText: "REPORT" }).count(), 0);
  await page.getByLabel(/Filter pattern/).fill("");
  await page.getByLabel(/Follow/).check();
  await page.getByRole("button", { name: "Show" }).click();
  await page.getByText("Following…").waitFor();
  const before = await page.locator("#log-rows tr", { hasText: "REPORT RequestId" }).count();
  const other = await context.newPage();
  other.on("console", (m) => m.type() === "error" && problems.push(`tab 2: ${m.text()}`));
  await other.goto(`${base}/console/functions/${name}`);
  await other.getByLabel("Event (JSON)").fill('{"who": "second tab"}');
  await other.getByRole("button", { name: "Invoke" }).click();
  await other.getByLabel("Result").filter({ hasText: "hello again second tab" }).waitFor();
  await other.close();
  await page.locator("#log-rows tr", { hasText: "console log line second tab" }).waitFor();
  await page.waitForFunction(
    (n) => [...document.querySelectorAll("#log-rows tr")].filter((r) => r.textContent.includes("REPORT RequestId")).length > n,
    before,
  );
  await shot("console-logs.png");

  step("metrics: the function's invocations are charted");
  await page.goto(`${base}/console/metrics?function=${name}`);
  const invocations = page.getByRole("img", { name: /^Invocations: peak [1-9]/ });
  await invocations.waitFor();
  await page.getByRole("img", { name: /^Duration p99: peak [0-9.]+ ms/ }).waitFor();
  await shot("console-metrics.png");

  step("the functions list shows the last hour's figures");
  await page.goto(`${base}/console/functions`);
  const row = page.locator("#function-rows tr", { hasText: name });
  assert.ok(Number(await row.locator("td.invocations").textContent()) >= 3);
  await shot("console-functions.png");

  step("async: a dead letter is replayed");
  const dlq = process.env.DLQ_FUNCTION;
  await page.getByRole("link", { name: "Async" }).click();
  await page.getByLabel("Function").fill(dlq);
  await page.getByRole("button", { name: "Show dead letters" }).click();
  const dlqRequest = process.env.DLQ_REQUEST_ID;
  await page.getByRole("cell", { name: dlqRequest, exact: true }).waitFor();
  await shot("console-async.png");
  await page.getByRole("button", { name: `Replay ${dlqRequest}` }).click();
  await page.getByRole("status").filter({ hasText: "Replayed 1 event(s)" }).waitFor();

  assert.deepEqual(problems, [], "the browser reported errors");
  step("done");
} catch (error) {
  if (shots) await shot("console-failure.png").catch(() => {});
  console.error(error);
  console.error(problems.join("\n"));
  process.exitCode = 1;
} finally {
  await context.close();
}
