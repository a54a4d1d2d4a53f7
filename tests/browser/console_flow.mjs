// The console end to end in a real browser: sign in, create a function from a zip, invoke it
// from the Test tab and read its log line and REPORT, change its memory. Any error in the
// browser's console (or an uncaught page error) fails the run. Each step prints one line.
//
// Environment: PLAYWRIGHT_CORE (its index.mjs), CHROMIUM, BROWSER_PROFILE (an empty folder),
// CONSOLE_URL, ACCESS_KEY, SECRET_KEY, ZIP_PATH, FUNCTION_NAME, EXPECT_LOG, SCREENSHOTS (optional).
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
  if (shots) await page.screenshot({ path: `${shots}/${file}`, fullPage: true });
}

try {
  step("an unsigned browser is sent to sign in");
  await page.goto(`${base}/console`);
  assert.match(new URL(page.url()).pathname, /\/console\/sign-in$/);

  step("a wrong secret is refused with what to do");
  await page.getByLabel("Access key id").fill(process.env.ACCESS_KEY);
  await page.getByLabel("Secret access key").fill("not-the-secret-at-all");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "not valid here" }).waitFor();
  problems.splice(0); // the 401 of that refusal is the browser's own console line, expected

  step("signing in with the right keys opens the functions list");
  await page.getByLabel("Access key id").fill(process.env.ACCESS_KEY);
  await page.getByLabel("Secret access key").fill(process.env.SECRET_KEY);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Functions", level: 1 }).waitFor();
  await shot("console-functions.png");

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

  step("change the memory to 256 MB");
  await page.getByLabel("Memory (MB)").fill("256");
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator("#memory").filter({ hasText: "256 MB" }).waitFor();

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
