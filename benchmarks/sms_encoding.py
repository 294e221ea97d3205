"""Throughput of SMS encoding analysis: texts analysed per second, segments counted per second.

Run: ``.venv/bin/python benchmarks/sms_encoding.py``. Bounded: each case runs for about
half a second (at most 200,000 iterations), single-threaded. Prints one line per case.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from afiya.domain.messaging.sms_encoding import analyze, fold_to_gsm7, split_segments

CASES: dict[str, str] = {
    "fr reminder, GSM-7": (
        "Aminata, rappel: RDV le 12/03/2025 à 09h30, CS Teyarett. Répondez OUI pour "
        "confirmer ou NON pour annuler. STOP pour ne plus recevoir de SMS."
    ),
    "fr long, GSM-7 with extension chars": ("Résultats [labo] {NFS} ~ prix 1500 € | " * 16),
    "ar reminder, UCS-2": (
        "آمنة، نذكّرك بموعدك يوم 12/03/2025 الساعة 09:30 في مركز صحة تيارت. "
        "أرسل نعم للتأكيد أو لا للإلغاء، أو توقف لإيقاف الرسائل."
    ),
    "ar long with emoji, UCS-2": ("موعدك غدا 😀 شكرا " * 25),
}
BUDGET_SECONDS = 0.5
MAX_ITERATIONS = 200_000


def rate(function: Callable[[str], object], text: str) -> tuple[float, int]:
    """Calls per second of ``function(text)`` over the time budget."""
    iterations, started = 0, time.perf_counter()
    deadline = started + BUDGET_SECONDS
    while iterations < MAX_ITERATIONS:
        for _ in range(200):
            function(text)
        iterations += 200
        if time.perf_counter() >= deadline:
            break
    return iterations / (time.perf_counter() - started), iterations


def main() -> None:
    print(
        f"{'case':40} {'chars':>5} {'parts':>5} {'analyze/s':>11} {'segments/s':>12} "
        f"{'split/s':>9} {'fold/s':>9}"
    )
    for name, text in CASES.items():
        info = analyze(text)
        per_second, _ = rate(analyze, text)
        split_rate, _ = rate(split_segments, text)
        fold_rate, _ = rate(fold_to_gsm7, text)
        print(
            f"{name:40} {len(text):>5} {info.segments:>5} {per_second:>11,.0f} "
            f"{per_second * info.segments:>12,.0f} {split_rate:>9,.0f} {fold_rate:>9,.0f}"
        )


if __name__ == "__main__":
    main()
