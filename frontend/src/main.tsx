import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClientProvider } from '@tanstack/react-query';
import { BrowserRouter } from 'react-router-dom';
import { App } from './App';
import { createQueryClient } from './services/queryClient';
import { tokenStore } from './services/tokens';
import './styles.css';

const queryClient = createQueryClient();
// An expired session (failed refresh, sign-out in another tab) must not leave its data in the cache.
tokenStore.subscribe(() => {
  if (!tokenStore.get()) queryClient.clear();
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
