import { hrefFor, ROUTES, type RouteGroup, type RouteId } from '../routing/routes';
import { Icon } from './Icon';

const GROUPS: { id: RouteGroup; label: string }[] = [
  { id: 'monitor', label: 'Monitor' },
  { id: 'model', label: 'Prediction' },
  { id: 'app', label: 'App' },
];

export function Sidebar({ active }: { active: RouteId }) {
  return (
    <nav className="sidebar" aria-label="Views" data-testid="sidebar">
      {GROUPS.map((group) => (
        <div className="nav-group" key={group.id}>
          <h2 className="nav-group-label" id={`nav-group-${group.id}`}>
            {group.label}
          </h2>
          <ul className="nav-list" aria-labelledby={`nav-group-${group.id}`}>
            {ROUTES.filter((route) => route.group === group.id).map((route) => (
              <li key={route.id}>
                <a
                  className="nav-link"
                  href={hrefFor(route.id)}
                  data-testid={`nav-${route.id}`}
                  aria-current={route.id === active ? 'page' : undefined}
                >
                  <Icon name={route.id} />
                  <span>{route.label}</span>
                </a>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </nav>
  );
}
