import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.tsx'
import { takeTokenFromLocation } from './token.ts'
import './styles.css'

const initialToken = takeTokenFromLocation()
const root = document.getElementById('root')
if (!root) throw new Error('#root missing')
createRoot(root).render(
  <StrictMode>
    <App initialToken={initialToken} />
  </StrictMode>,
)
