import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { resolveAscApi } from './asc-api.js';
import { createGatewayStore } from './gateway-store.js';
import './app.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

createRoot(root).render(
  <StrictMode>
    <App store={createGatewayStore(resolveAscApi())} />
  </StrictMode>,
);
