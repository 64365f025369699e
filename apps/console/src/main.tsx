// first, before any schema is built: the console runs under a CSP without 'unsafe-eval'
import '@watchfloor/protocol/no-eval'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { takeTokenFromLocation } from './data/token.ts'
import { App } from './shell/App.tsx'
import { WallApp } from './wall/WallApp.tsx'
import './styles.css'

const initialToken = takeTokenFromLocation()
const root = document.getElementById('root')
if (!root) throw new Error('#root missing')
const wall = /^\/wall\/?$/.test(window.location.pathname)
createRoot(root).render(
  <StrictMode>{wall ? <WallApp token={initialToken} /> : <App initialToken={initialToken} />}</StrictMode>,
)
