// `file.export` (or `dir/file.a.b`) -> the handler function, or an init error with AWS's
// error types: Runtime.MalformedHandlerName, Runtime.ImportModuleError,
// Runtime.UserCodeSyntaxError, Runtime.HandlerNotFound. `.mjs` files are ES modules, `.cjs`
// CommonJS, `.js` CommonJS unless it turns out to be an ES module.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

class RuntimeError extends Error {
  constructor(type, message) {
    super(message);
    this.name = type;
  }
}

function split(handler) {
  const base = path.basename(handler);
  const dot = base.indexOf(".");
  if (dot < 0) throw new RuntimeError("Runtime.MalformedHandlerName", "Bad handler");
  const dir = handler.slice(0, handler.length - base.length);
  return { module: dir + base.slice(0, dot), names: base.slice(dot + 1) };
}

// Whether a .js file is an ES module: the nearest package.json (up to the task root) says
// "type": "module".
function isEsmPackage(file, root) {
  let dir = path.dirname(file);
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest)) {
      try {
        return JSON.parse(fs.readFileSync(manifest, "utf8")).type === "module";
      } catch {
        return false;
      }
    }
    if (dir === root || dir === path.dirname(dir)) return false;
    dir = path.dirname(dir);
  }
}

const ESM_REQUIRE_ERRORS = new Set(["ERR_REQUIRE_ESM", "ERR_REQUIRE_ASYNC_MODULE"]);

async function importModule(root, module) {
  const base = path.resolve(root, module);
  const require = createRequire(path.join(root, "noop.js"));
  try {
    if (fs.existsSync(base + ".mjs")) return await import(pathToFileURL(base + ".mjs").href);
    if (fs.existsSync(base + ".js") && isEsmPackage(base + ".js", path.resolve(root))) {
      return await import(pathToFileURL(base + ".js").href);
    }
    for (const ext of [".cjs", ".js"]) {
      if (!fs.existsSync(base + ext)) continue;
      try {
        return require(base + ext);
      } catch (error) {
        if (error && ESM_REQUIRE_ERRORS.has(error.code)) return await import(pathToFileURL(base + ext).href);
        throw error;
      }
    }
    return require(module.includes("/") ? base : module); // a directory or a package in node_modules
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new RuntimeError("Runtime.UserCodeSyntaxError", `${error.name}: ${error.message}`);
    }
    if (error && error.code === "MODULE_NOT_FOUND" && String(error.message).includes(`'${module.includes("/") ? base : module}'`)) {
      throw new RuntimeError("Runtime.ImportModuleError", `Error: Cannot find module '${module}'`);
    }
    throw error; // an error thrown by the module's own top-level code: reported as it is
  }
}

export async function loadHandler(root, handler) {
  const { module, names } = split(handler);
  let value = await importModule(root, module);
  for (const name of names.split(".")) {
    value = value == null ? undefined : value[name];
    // An ES module namespace of a CommonJS file puts module.exports under `default`.
  }
  if (typeof value !== "function") {
    throw new RuntimeError("Runtime.HandlerNotFound", `${handler} is undefined or not exported`);
  }
  return value;
}
