import { useConnection } from '../api/use-connection';
import { EmptyState } from '../components/EmptyState';
import { View } from '../components/View';

export function ModelsView() {
  const { health } = useConnection();
  const model = health ? health.model : undefined;
  return (
    <View
      id="models"
      title="Models"
      subtitle="The models this console can predict with, and which one is active."
      actions={
        <span className="muted" data-testid="models-active">
          Active:{' '}
          {model === undefined
            ? '…'
            : model
              ? `${model.name} ${model.version} (${model.executionProvider.toUpperCase()})`
              : 'no model loaded'}
        </span>
      }
    >
      <EmptyState
        id="models"
        icon="models"
        title="No model installed"
        needs="The bundled default model, shipped with the app, or a finished training run."
      >
        <p>
          Every installed model — the bundled default and the ones you trained or imported — with its data-contract
          version, training range, evaluation against baselines and checksum. Activate one here; a model that fails its
          checksum or contract check is refused and the previous one stays active.
        </p>
      </EmptyState>
    </View>
  );
}
