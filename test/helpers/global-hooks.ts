// Unhandled rejections are test failures, never silent (STYLE: ioredis test hygiene).
process.on('unhandledRejection', (reason) => {
  throw reason instanceof Error ? reason : new Error(String(reason));
});
