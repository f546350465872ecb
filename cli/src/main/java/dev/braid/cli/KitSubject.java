package dev.braid.cli;

import dev.braid.spi.TransportProvider;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * What one column of the conformance matrix tests: one transport (both ends made by one provider), or a pair of
 * implementations of one scheme, the dialing side made by one and the listening side by the other
 * ({@code dialer→listener}; the kit's {@link dev.braid.conformance.TransportFixture#across} fixture).
 *
 * @param id the column's name
 * @param dialer the provider of the dialing side
 * @param listener the provider of the listening side
 */
record KitSubject(String id, TransportProvider dialer, TransportProvider listener) {
  KitSubject {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(dialer, "dialer");
    Objects.requireNonNull(listener, "listener");
  }

  static KitSubject of(TransportProvider p) {
    return new KitSubject(p.id(), p, p);
  }

  static KitSubject across(TransportProvider dialer, TransportProvider listener) {
    return new KitSubject(dialer.id() + "→" + listener.id(), dialer, listener);
  }

  boolean isPair() {
    return dialer != listener;
  }

  /** The id as a file name (reports, outcome files): the arrow spelled out. */
  String fileName() {
    return id.replace("→", "-to-");
  }

  /**
   * The columns for {@code selected} (available providers, in order): each provider, then, for every scheme two or
   * more of them claim, each ordered pair of those (both directions), once.
   */
  static List<KitSubject> columns(List<TransportProvider> selected) {
    List<KitSubject> columns = new ArrayList<>();
    selected.forEach(p -> columns.add(of(p)));
    Set<String> schemes = new LinkedHashSet<>();
    selected.forEach(p -> p.schemes().forEach(s -> schemes.add(s.toLowerCase(Locale.ROOT))));
    Set<String> pairs = new LinkedHashSet<>();
    for (String scheme : schemes) {
      List<TransportProvider> claimants = selected.stream()
          .filter(p -> p.schemes().stream().anyMatch(s -> s.equalsIgnoreCase(scheme))).toList();
      for (TransportProvider d : claimants) {
        for (TransportProvider l : claimants) {
          if (d != l && pairs.add(d.id() + "\n" + l.id())) {
            columns.add(across(d, l));
          }
        }
      }
    }
    return columns;
  }
}
