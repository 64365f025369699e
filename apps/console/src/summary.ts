export { summarise } from '@watchfloor/core'
