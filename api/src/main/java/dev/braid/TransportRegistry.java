package dev.braid;

import dev.braid.spi.TransportProvider;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The transport providers found at run time, in a deterministic order: priority (highest first), then id.
 *
 * <p>Immutable and thread-safe. Duplicate ids are rejected when the registry is built.
 */
public final class TransportRegistry {
  private static final Comparator<TransportProvider> ORDER =
      Comparator.comparingInt(TransportProvider::priority).reversed().thenComparing(TransportProvider::id);

  private final List<TransportProvider> all;
  /** Every provider claiming each scheme (lower case), in order. */
  private final Map<String, List<TransportProvider>> byScheme;

  private TransportRegistry(Collection<? extends TransportProvider> providers) {
    Map<String, TransportProvider> byId = new HashMap<>();
    for (TransportProvider p : providers) {
      String id = Objects.requireNonNull(p.id(), () -> p.getClass().getName() + ".id() returned null");
      TransportProvider previous = byId.putIfAbsent(id, p);
      if (previous != null && previous.getClass() != p.getClass()) {
        throw new IllegalStateException("two transport providers claim id '" + id + "': "
            + previous.getClass().getName() + " and " + p.getClass().getName() + "; remove one from the class path");
      }
    }
    List<TransportProvider> sorted = new ArrayList<>(byId.values());
    sorted.sort(ORDER);
    this.all = List.copyOf(sorted);
    Map<String, List<TransportProvider>> schemes = new LinkedHashMap<>();
    for (TransportProvider p : sorted) {
      for (String scheme : p.schemes()) {
        schemes.computeIfAbsent(scheme.toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(p); // in order
      }
    }
    Map<String, List<TransportProvider>> frozen = new LinkedHashMap<>();
    schemes.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
    this.byScheme = Map.copyOf(frozen);
  }

  /** The providers visible to the thread context class loader (class path), or else to Braid's own module layer. */
  public static TransportRegistry load() {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    return load(cl != null ? cl : TransportRegistry.class.getClassLoader());
  }

  /** The providers that {@link ServiceLoader} finds through {@code loader} (class path and module path). */
  public static TransportRegistry load(ClassLoader loader) {
    List<TransportProvider> found = new ArrayList<>();
    ServiceLoader.load(TransportProvider.class, loader).stream().forEach(p -> found.add(p.get()));
    if (TransportRegistry.class.getModule().isNamed()) {
      ModuleLayer layer = TransportRegistry.class.getModule().getLayer();
      if (layer != null) {
        ServiceLoader.load(layer, TransportProvider.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(p -> found.stream().noneMatch(f -> f.getClass() == p.getClass()))
            .forEach(found::add);
      }
    }
    return new TransportRegistry(found);
  }

  /** A registry of exactly these providers (tests, embedding). */
  public static TransportRegistry of(Collection<? extends TransportProvider> providers) {
    return new TransportRegistry(providers);
  }

  /** Every provider found, available or not, in order. */
  public List<TransportProvider> all() {
    return all;
  }

  /** The providers that can run here, in order. */
  public List<TransportProvider> available() {
    return all.stream().filter(TransportProvider::isAvailable).collect(Collectors.toUnmodifiableList());
  }

  /** The providers that cannot run here, in order; ask each for its {@link TransportProvider#unavailabilityCause()}. */
  public List<TransportProvider> unavailable() {
    return all.stream().filter(p -> !p.isAvailable()).collect(Collectors.toUnmodifiableList());
  }

  /**
   * The provider for a URI scheme: of the providers claiming it, the first available one in order (highest
   * {@link TransportProvider#priority()}, then id). Where two implementations share a scheme, the preferred one that
   * cannot run here (say, its native library does not load) leaves the scheme to the next; {@link #forId} picks one
   * explicitly.
   *
   * @throws TransportUnavailableException if no provider claims the scheme (the message lists the schemes
   *     available), or none of those that do can run here (the message names each with its cause; the exception's
   *     cause is the preferred one's)
   */
  public TransportProvider forScheme(String scheme) throws TransportUnavailableException {
    Objects.requireNonNull(scheme, "scheme");
    List<TransportProvider> claimants = claimants(scheme);
    if (claimants.isEmpty()) {
      throw new TransportUnavailableException("no Braid transport for scheme '" + scheme + "'; available schemes: "
          + availableSchemes() + (unavailable().isEmpty() ? "" : "; unavailable transports: " + unavailableSummary()),
          null);
    }
    for (TransportProvider p : claimants) {
      if (p.isAvailable()) {
        return p;
      }
    }
    TransportProvider preferred = claimants.get(0);
    if (claimants.size() == 1) {
      Throwable cause = preferred.unavailabilityCause();
      throw new TransportUnavailableException("transport '" + preferred.id() + "' for scheme '" + scheme
          + "' cannot run here: " + (cause == null ? "no reason given" : cause.getMessage()), cause);
    }
    throw new TransportUnavailableException("no transport for scheme '" + scheme + "' can run here: "
        + claimants.stream().map(TransportRegistry::whyNot).collect(Collectors.joining(", ")),
        preferred.unavailabilityCause());
  }

  /** Every provider claiming {@code scheme} (any case), in order, available or not; empty if none does. */
  public List<TransportProvider> claimants(String scheme) {
    return byScheme.getOrDefault(Objects.requireNonNull(scheme, "scheme").toLowerCase(Locale.ROOT), List.of());
  }

  /**
   * The provider with this {@link TransportProvider#id()}, to pick one implementation of a scheme explicitly.
   *
   * @throws TransportUnavailableException if no provider has that id (the message lists the ids), or it cannot run
   *     here (the cause says why)
   */
  public TransportProvider forId(String id) throws TransportUnavailableException {
    Objects.requireNonNull(id, "id");
    for (TransportProvider p : all) {
      if (p.id().equals(id)) {
        if (!p.isAvailable()) {
          Throwable cause = p.unavailabilityCause();
          throw new TransportUnavailableException("transport '" + id + "' cannot run here: "
              + (cause == null ? "no reason given" : cause.getMessage()), cause);
        }
        return p;
      }
    }
    throw new TransportUnavailableException("no Braid transport with id '" + id + "'; ids: "
        + all.stream().map(TransportProvider::id).sorted().collect(Collectors.toList()), null);
  }

  /** The schemes of every available provider, sorted. */
  public List<String> availableSchemes() {
    TreeSet<String> schemes = new TreeSet<>();
    for (TransportProvider p : available()) {
      schemes.addAll(p.schemes());
    }
    return List.copyOf(schemes);
  }

  private String unavailableSummary() {
    return unavailable().stream().map(TransportRegistry::whyNot).collect(Collectors.joining(", "));
  }

  private static String whyNot(TransportProvider p) {
    Throwable cause = p.unavailabilityCause();
    return p.id() + " (" + (cause == null ? "no reason given" : cause.getMessage()) + ")";
  }

  @Override
  public String toString() {
    return "TransportRegistry" + all.stream().map(TransportProvider::id).collect(Collectors.toList());
  }
}
