// legacy.handler: CommonJS, synchronous result through context.succeed
module.exports.handler = function (event, context) {
  context.succeed({ form: "cjs-succeed" });
};
