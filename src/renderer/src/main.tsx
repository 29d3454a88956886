import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { createClient } from './api/client';
import { createConnectionMonitor } from './api/connection-monitor';
import { ApiContext, type ApiContextValue } from './api/use-api';
import { applyCachedAppearance } from './theme';
import './styles.css';

applyCachedAppearance();

// One client and one monitor for the life of the page: created before React so the first
// heartbeat is never missed, and outside StrictMode's double mounting.
const client = createClient();
const api: ApiContextValue = { client, connection: createConnectionMonitor(client) };

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

createRoot(root).render(
  <StrictMode>
    <ApiContext.Provider value={api}>
      <App />
    </ApiContext.Provider>
  </StrictMode>,
);
