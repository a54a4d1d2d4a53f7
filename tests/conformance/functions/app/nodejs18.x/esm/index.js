// esm/index.handler: a .js ES module (package.json "type": "module") with top-level await
const config = await Promise.resolve({ ready: true });

export const handler = async (event) => ({ form: "esm-js", config });
