// Filled in by the WaveNet work.
