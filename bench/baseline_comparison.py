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


# Student's t at 97.5% for n - 1 degrees of freedom (n rounds), for a 95% interval;
# 1.96 past the table.
_T_975 = {2: 12.71, 3: 4.30, 4: 3.18, 5: 2.78, 6: 2.57, 7: 2.45, 8: 2.36, 9: 2.31, 10: 2.26, 12: 2.20, 15: 2.14,
          20: 2.09, 30: 2.05, 60: 2.00}


def mean_and_interval(results, key):
    """(mean, half width of its 95% interval, rounds) of a figure over rounds, or None
    with fewer than 2: for an effect smaller than the median's spread (a 2% slowdown
    on a noisy machine), whether the interval excludes it says more than the median."""
    values = [r[key] for r in results if r.get(key) is not None]
    if len(values) < 2:
        return None
    n = len(values)
    t = next((_T_975[k] for k in sorted(_T_975) if k >= n), 1.96)
    return statistics.mean(values), t * statistics.stdev(values) / n ** 0.5, n


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
