// A Node.js function (ES module, async handler).
export const handler = async (event, context) => {
  const name = event?.name ?? "world";
  console.log(`greeting ${name}`);
  return {
    message: `Hello, ${name}!`,
    function: context.functionName,
    requestId: context.awsRequestId,
    remainingMs: context.getRemainingTimeInMillis(),
  };
};
