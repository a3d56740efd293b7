"""What the benches that compare two pyprofd builds share: running them in turns
(baseline, new, baseline, new, ...) in the same bench run, since this machine's
load drifts more between runs than the builds differ, and a table of each figure's
median for both builds with the ratio new / baseline."""
import statistics


def alternate(baseline, new, rounds, run):
    """{"baseline": [result...], "new": [result...]}: run(binary, label) called
    rounds times for each build, in turns."""
    results = {"baseline": [], "new": []}
    for round_ in range(rounds):
        for label, binary in (("baseline", baseline), ("new", new)):
            results[label].append(run(binary, label, round_ + 1))
    return results


def median_of(results, key):
    values = [r[key] for r in results if r.get(key) is not None]
    return statistics.median(values) if values else None


def print_table(title, results, figures):
    """figures: (key, label, format) per row; a row prints the median of each build
    over its rounds and the ratio new / baseline."""
    print(title)
    print("  %-44s %14s %14s %12s" % ("", "baseline", "new", "new/baseline"))
    for key, label, form in figures:
        b, n = median_of(results["baseline"], key), median_of(results["new"], key)
        ratio = "%.3f" % (n / b) if b not in (None, 0) and n is not None else "-"
        print("  %-44s %14s %14s %12s" % (label, form % b if b is not None else "-", form % n if n is not None else "-",
                                           ratio))
    print(flush=True)
