import { ConnectionIndicator } from './ConnectionIndicator';
import { Icon } from './Icon';

export function TopBar() {
  return (
    <header className="topbar" data-testid="topbar">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          <Icon name="logo" size={18} />
        </span>
        <span className="brand-name" data-testid="product-name">
          TFT Monitoring Prediction
        </span>
        <span className="brand-tag">Incident prediction · next 8 h</span>
      </div>
      <div className="topbar-right">
        <ConnectionIndicator />
      </div>
    </header>
  );
}
