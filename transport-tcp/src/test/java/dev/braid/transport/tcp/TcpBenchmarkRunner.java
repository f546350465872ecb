package dev.braid.transport.tcp;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Runs {@link TcpBenchmark} under the {@code bench} profile only ({@code mvn -B -o -pl transport-tcp test -Pbench}). */
@Tag("bench")
class TcpBenchmarkRunner {
  @Test
  void benchmark() throws Exception {
    TcpBenchmark.main(new String[0]);
  }
}
