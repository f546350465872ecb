package dev.braid.examples;

/** The examples over {@code quic://}, with the provider the scheme picks by default (kwik). */
class QuicExamplesTest extends ExamplesSuite {
  @Override
  String transportId() {
    return "quic";
  }
}
