package dev.braid.examples;

/** The examples over {@code tcp://} (TCP + yamux). */
class TcpExamplesTest extends ExamplesSuite {
  @Override
  String transportId() {
    return "tcp";
  }
}
