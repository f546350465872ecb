/**
 * The Braid transport for {@code ${scheme}://}. Only the provider is public; the SPI's base classes do the lifecycle.
 */
module ${package} {
  requires transitive dev.braid.api;

  exports ${package};

  // Module path registration; META-INF/services/dev.braid.spi.TransportProvider is the class path's.
  provides dev.braid.spi.TransportProvider with ${package}.${classPrefix}TransportProvider;
}
