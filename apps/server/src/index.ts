export { createApp } from './app.ts'
export { type Principal, TokenRegistry } from './auth.ts'
export { type Config, loadConfig } from './config.ts'
export { type RunningServer, startServer } from './server.ts'
