import { EmptyState } from '../components/EmptyState';
import { View } from '../components/View';

export function TrainingView() {
  return (
    <View
      id="training"
      title="Training"
      subtitle="Train the Temporal Fusion Transformer on your own metrics, on this machine."
    >
      <EmptyState
        id="training"
        icon="training"
        title="Nothing to train on yet"
        needs="Stored metrics: at least 32 hours per server (24 hours of context plus the 8-hour horizon), and days of them for a model worth keeping."
      >
        <p>
          Choose servers and a time range, start a run, and follow training and validation loss epoch by epoch. The
          result is evaluated against simple baselines and exported to ONNX, ready to activate under Models. Training
          runs in the background and uses a GPU when one is available.
        </p>
      </EmptyState>
    </View>
  );
}
