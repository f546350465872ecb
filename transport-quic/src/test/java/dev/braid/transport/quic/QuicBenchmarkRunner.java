package dev.braid.transport.quic;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Runs {@link QuicBenchmark} under the {@code bench} profile: {@code mvn -B -o -pl transport-quic test -Pbench}. */
@Tag("bench")
class QuicBenchmarkRunner {
  @Test
  void benchmark() throws Exception {
    QuicBenchmark.main(new String[0]);
  }
}
