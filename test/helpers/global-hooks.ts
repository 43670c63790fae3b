// Unhandled rejections are test failures, never silent (STYLE: ioredis test hygiene).
process.on('unhandledRejection', (reason) => {
  throw reason instanceof Error ? reason : new Error(String(reason));
});

// `node bin/snode.js` children (the CLI and serve tests, the cluster launcher) run the same
// sources as the tests, never a dist/ built earlier (bin/snode.js).
process.env.SNODE_FROM_SOURCE = '1';
