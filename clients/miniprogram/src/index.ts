export * from "./client.js";
export * from "./adapters.js";
export type { components, operations, paths } from "./api.js";
