export { createManagementApp, DEFAULT_BODY_LIMIT, type ManagementDeps } from "./app.ts";
export { type ManagementAddress, startManagement } from "./server.ts";
