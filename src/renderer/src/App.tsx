import { useEffect, useRef } from 'react';
import { ErrorBoundary } from './components/ErrorBoundary';
import { LinkBanner } from './components/LinkBanner';
import { Sidebar } from './components/Sidebar';
import { TopBar } from './components/TopBar';
import { useSettingsState, type SettingsState } from './hooks/use-settings';
import { ROUTES, type RouteId } from './routing/routes';
import { useHashRoute } from './routing/use-hash-route';
import { applyAppearance } from './theme';
import { AlertsView } from './views/AlertsView';
import { DemoView } from './views/DemoView';
import { HeatmapView } from './views/HeatmapView';
import { ModelsView } from './views/ModelsView';
import { OverviewView } from './views/OverviewView';
import { ServerDetailView } from './views/ServerDetailView';
import { ServersView } from './views/ServersView';
import { SettingsView } from './views/SettingsView';
import { TrainingView } from './views/TrainingView';
import { TrendsView } from './views/TrendsView';

function renderView(id: RouteId, params: readonly string[], settings: SettingsState) {
  switch (id) {
    case 'overview':
      return <OverviewView />;
    case 'heatmap':
      return <HeatmapView />;
    case 'servers':
      // `#/servers/<name>`: one server's detail; keyed so another server starts from a clean slate.
      return params[0] !== undefined ? <ServerDetailView key={params[0]} server={params[0]} /> : <ServersView />;
    case 'trends':
      return <TrendsView />;
    case 'alerts':
      return <AlertsView />;
    case 'demo':
      return <DemoView />;
    case 'training':
      return <TrainingView />;
    case 'models':
      return <ModelsView />;
    case 'settings':
      return <SettingsView state={settings} />;
  }
}

export function App() {
  const route = useHashRoute();
  const settings = useSettingsState();
  const mainRef = useRef<HTMLElement>(null);
  const firstRoute = useRef(true);

  useEffect(() => {
    if (settings.settings) applyAppearance(settings.settings);
  }, [settings.settings]);

  useEffect(() => {
    const label = ROUTES.find((r) => r.id === route.id)?.label ?? '';
    const detail = route.params[0];
    document.title = `${detail !== undefined ? `${detail} · ` : ''}${label} · TFT Monitoring Prediction`;
    // After navigation, focus goes to the new view's heading (screen readers announce it);
    // not on first load, where focus belongs to the start of the page.
    if (firstRoute.current) {
      firstRoute.current = false;
      return;
    }
    mainRef.current?.querySelector<HTMLElement>('#view-title')?.focus({ preventScroll: true });
    mainRef.current?.scrollTo({ top: 0 });
  }, [route.id, route.params]);

  const skipToContent = (): void => {
    mainRef.current?.querySelector<HTMLElement>('#view-title')?.focus();
  };

  return (
    <div className="app">
      <button type="button" className="skip-link" onClick={skipToContent}>
        Skip to content
      </button>
      <TopBar />
      <Sidebar active={route.id} />
      <main className="main" ref={mainRef} data-route={route.id}>
        <LinkBanner />
        <ErrorBoundary resetKey={`${route.id}/${route.params.join('/')}`}>
          {renderView(route.id, route.params, settings)}
        </ErrorBoundary>
      </main>
    </div>
  );
}
