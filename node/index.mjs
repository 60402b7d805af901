// redbun/node for `import`: the CommonJS module (index.cjs) is the one implementation.
import redbun from "./index.cjs";
export const { startServer } = redbun;
