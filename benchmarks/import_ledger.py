"""Benchmark: ``aibubble import crunchbase`` on a synthetic 1,000,000-round bulk export.

Generates a Crunchbase-shaped export (funding_rounds.csv with the bulk export's 24 columns and a
matching organizations.csv with category lists, category groups and descriptions) in a temporary
folder, then runs, each in its own child process so peak memory is measured cleanly:

* ours: the import CLI (``python -m analysis.cli import crunchbase ...``; the same handler
  that ``aibubble import crunchbase`` calls), which reads, checks, classifies and writes the ledger;
* reference: a bare ``pandas.read_csv`` of the same two files (default C engine), and for
  context the same read with ``engine="pyarrow"`` (which the importer itself uses).

It prints one side-by-side table from one run of this script: wall time, CPU time (user +
system) and peak RSS from ``resource.getrusage`` of each child; ours / reference / ratio. Each
side runs ``--repeat`` times, interleaved (reference, pyarrow read, ours, reference, ...), and the
table shows the fastest run of each (as ``timeit`` does: the others are the same work plus
noise from the machine) and the largest peak RSS. CPU time is the steadier figure on a shared,
loaded machine. Targets: time ratio <= 3, peak memory < 3 GB.

Usage: ``.venv/bin/python benchmarks/import_ledger.py [--rounds 1000000] [--orgs 300000] [--seed 7]
[--ai-share 0.15] [--repeat 3] [--keep DIR]``
(``--keep DIR`` generates into DIR and keeps the files; a later run with the same DIR reuses them.)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent

# (category, category group) pairs. About a third carry an AI signal; the rest are the
# everyday Crunchbase categories that make up most of a bulk export.
AI_CATEGORIES = [
    ("Artificial Intelligence (AI)", "Artificial Intelligence (AI)"), ("Machine Learning", "Artificial Intelligence (AI)"),
    ("Generative AI", "Artificial Intelligence (AI)"), ("Natural Language Processing", "Artificial Intelligence (AI)"),
    ("Computer Vision", "Artificial Intelligence (AI)"), ("Predictive Analytics", "Data and Analytics"),
    ("Intelligent Systems", "Artificial Intelligence (AI)"), ("Deep Learning", "Artificial Intelligence (AI)"),
]
DOMAIN_CATEGORIES = [
    ("Drug Discovery", "Health Care"), ("Biotechnology", "Biotechnology"), ("Robotics", "Hardware"),
    ("Autonomous Vehicles", "Transportation"), ("Semiconductor", "Hardware"), ("Health Care", "Health Care"),
    ("Medical Device", "Health Care"), ("Video Editing", "Media and Entertainment"), ("Music", "Music and Audio"),
    ("Speech Recognition", "Artificial Intelligence (AI)"), ("Photo Editing", "Media and Entertainment"),
    ("Chemical", "Science and Engineering"), ("Military", "Government and Military"), ("Drones", "Hardware"),
    ("Cloud Computing", "Internet Services"), ("Chatbot", "Software"), ("Genetics", "Biotechnology"),
]
OTHER_CATEGORIES = [
    ("Software", "Software"), ("SaaS", "Software"), ("E-Commerce", "Commerce and Shopping"),
    ("FinTech", "Financial Services"), ("Real Estate", "Real Estate"), ("Marketing", "Sales and Marketing"),
    ("Education", "Education"), ("Food and Beverage", "Food and Beverage"), ("Retail", "Commerce and Shopping"),
    ("Logistics", "Transportation"), ("Insurance", "Financial Services"), ("Gaming", "Gaming"),
    ("Fashion", "Clothing and Apparel"), ("Travel", "Travel and Tourism"), ("Enterprise Software", "Software"),
    ("Mobile Apps", "Apps"), ("Cyber Security", "Privacy and Security"), ("Advertising", "Advertising"),
    ("Energy", "Energy"), ("Agriculture", "Agriculture and Farming"), ("Human Resources", "Administrative Services"),
    ("Payments", "Payments"), ("Consulting", "Professional Services"), ("Construction", "Real Estate"),
]
# Descriptions: domain-flavoured subjects (which fire the taxonomy's keyword rules) and everyday
# ones, mixed by --ai-share like the categories.
AI_SUBJECTS = ["an AI drug discovery platform", "a robotics company building humanoid robots",
               "self-driving trucks for long-haul freight", "AI chips for inference at the edge",
               "clinical documentation for clinicians", "a text-to-video generation model",
               "voice cloning and speech synthesis", "AI coding assistants for developers",
               "a foundation model lab training large language models",
               "materials discovery for battery materials", "defense technology for autonomous drones",
               "an image generation tool for designers"]
OTHER_SUBJECTS = ["a marketplace for local services", "payroll software for small businesses",
                  "an online store for sustainable fashion", "a mobile game studio", "a B2B payments network",
                  "a property management platform", "an insurance comparison site",
                  "a logistics network for retailers", "a customer analytics dashboard", "a meal-kit delivery service",
                  "cloud security posture management", "a learning platform for coding bootcamps"]
OPENERS = ["{n} builds", "{n} develops", "{n} is", "{n} offers", "{n} provides"]
TAILS = ["", " for enterprises.", " in Europe and North America.", " used by thousands of teams.",
         " backed by leading investors.", " with a focus on regulated industries."]
INVESTMENT_TYPES = ["seed", "pre_seed", "angel", "series_a", "series_b", "series_c", "series_d",
                    "series_unknown", "debt_financing", "convertible_note", "grant", "undisclosed",
                    "corporate_round", "private_equity", "post_ipo_equity", "equity_crowdfunding"]
TYPE_P = np.array([22, 8, 10, 14, 7, 3, 1.5, 6, 7, 4, 4, 6, 3, 1.5, 1.5, 1.5])


def _uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    raw = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64)
    h = pd.Series([f"{a:016x}{b:016x}" for a, b in raw.view(np.uint64)])
    return (h.str[:8] + "-" + h.str[8:12] + "-" + h.str[12:16] + "-" + h.str[16:20] + "-" + h.str[20:32]).to_numpy()


def _lists(rng: np.random.Generator, n: int, pool: list[tuple[str, str]], p_ai: float) -> tuple[np.ndarray, np.ndarray]:
    """Category and category-group lists: 1-4 categories, AI-flavoured for a share of companies."""
    others = OTHER_CATEGORIES
    k = rng.integers(1, 5, size=n)
    ai = rng.random(n) < p_ai
    cats, groups = [], []
    pool_idx = rng.integers(0, len(pool), size=(n, 4))
    other_idx = rng.integers(0, len(others), size=(n, 4))
    for i in range(n):
        chosen = [pool[j] if (ai[i] and t < 2) else others[o]
                  for t, (j, o) in enumerate(zip(pool_idx[i, :k[i]], other_idx[i, :k[i]]))]
        names = list(dict.fromkeys(c for c, _ in chosen))
        grp = list(dict.fromkeys(g for _, g in chosen))
        cats.append(",".join(names))
        groups.append(",".join(grp))
    return np.array(cats, dtype=object), np.array(groups, dtype=object)


def generate(folder: Path, rounds: int, orgs: int, seed: int, ai_share: float = 0.15) -> tuple[Path, Path]:
    """Write a synthetic funding_rounds.csv + organizations.csv pair; return their paths.

    ``ai_share`` is the probability that a company carries AI categories and, independently, an
    AI-flavoured description. Crunchbase tags roughly a tenth of its companies with an AI
    category; the default 0.15 each keeps about 30% of the rounds under the default
    ``ai_filter="rules"``. ``--ai-share 0.5`` is a stress case that keeps most of them.
    """
    rng = np.random.default_rng(seed)
    n_inv = max(orgs // 10, 1)  # investor organisations, referenced by lead_investor_uuids
    n_all = orgs + n_inv
    org_uuid = _uuids(rng, n_all)
    stems = np.array(["Acme", "Nova", "Quantum", "Blue", "Deep", "Bright", "Atlas", "Vector", "Lumen", "Helix",
                      "Orbit", "Pixel", "Cedar", "Signal", "North", "Apex", "Forge", "Vertex", "Echo", "Prism"])
    suffixes = np.array(["Labs", "AI", "Robotics", "Health", "Bio", "Systems", "Technologies", "", "Cloud", "Capital"])
    num = pd.Series(np.arange(n_all)).astype(str)
    names = pd.Series(stems[rng.integers(0, len(stems), n_all)]) + " " + \
        pd.Series(suffixes[rng.integers(0, len(suffixes), n_all)]) + " " + num
    names = names.str.replace("  ", " ", regex=False)
    # ~2% of companies share a name with another company (Crunchbase has many such pairs).
    dup = rng.random(n_all) < 0.02
    names[dup] = names.shift(1).fillna(names)[dup]
    permalink = names.str.lower().str.replace(r"[^a-z0-9]+", "-", regex=True)
    pool = AI_CATEGORIES + DOMAIN_CATEGORIES
    cats, groups = _lists(rng, n_all, pool, p_ai=ai_share)
    subj = np.where(rng.random(n_all) < ai_share,
                    np.array(AI_SUBJECTS)[rng.integers(0, len(AI_SUBJECTS), n_all)],
                    np.array(OTHER_SUBJECTS)[rng.integers(0, len(OTHER_SUBJECTS), n_all)])
    opener = pd.Series(np.array(OPENERS)[rng.integers(0, len(OPENERS), n_all)])
    desc = (pd.Series([o.format(n=nm) for o, nm in zip(opener, names)]) + " " + pd.Series(subj)
            + pd.Series(np.array(TAILS)[rng.integers(0, len(TAILS), n_all)]))
    desc = desc.where(~desc.str.endswith(("s", "l", "y", "n", "t", "e", "m", "r", "g", "o")), desc + ".")
    org_dates = pd.to_datetime("2000-01-01") + pd.to_timedelta(rng.integers(0, 9000, n_all), unit="D")
    organizations = pd.DataFrame({
        "uuid": org_uuid, "name": names, "type": "organization", "permalink": permalink,
        "cb_url": "https://www.crunchbase.com/organization/" + permalink,
        "rank": rng.integers(1, 2_000_000, n_all), "created_at": "2015-04-01 10:00:00",
        "updated_at": "2024-11-30 08:15:00", "legal_name": names + " Inc.",
        "roles": np.where(np.arange(n_all) >= orgs, "investor", "company"),
        "domain": permalink + ".com", "homepage_url": "https://www." + permalink + ".com",
        "country_code": np.array(["USA", "GBR", "FRA", "DEU", "CHN", "ISR", "CAN", "IND"])[rng.integers(0, 8, n_all)],
        "state_code": "", "region": "", "city": "Springfield", "status": "operating",
        "short_description": desc, "category_list": cats, "category_groups_list": groups,
        "num_funding_rounds": rng.integers(0, 9, n_all), "total_funding_usd": "",
        "founded_on": org_dates.strftime("%Y-%m-%d"), "employee_count": "11-50",
        "linkedin_url": "https://www.linkedin.com/company/" + permalink,
    })
    # Rounds: each company draws rounds; the investor orgs raise none.
    r_org = rng.integers(0, orgs, rounds)
    r_uuid = _uuids(rng, rounds)
    itype = np.array(INVESTMENT_TYPES)[rng.choice(len(INVESTMENT_TYPES), rounds, p=TYPE_P / TYPE_P.sum())]
    day = rng.integers(0, 365 * 17, rounds)
    ann = (pd.Timestamp("2008-01-01") + pd.to_timedelta(day, unit="D"))
    ann_s = pd.Series(ann.strftime("%Y-%m-%d"))
    prec = rng.random(rounds)
    ann_s[prec < 0.02] = ann_s[prec < 0.02].str[:4]          # year only
    ann_s[(prec >= 0.02) & (prec < 0.05)] = ann_s[(prec >= 0.02) & (prec < 0.05)].str[:7]  # year-month
    amount = np.round(np.exp(rng.normal(15.5, 1.6, rounds)), -3)
    amount_s = pd.Series(amount.astype(np.int64).astype(str))
    amount_s[rng.random(rounds) < 0.25] = ""                 # undisclosed amounts
    post = np.where(rng.random(rounds) < 0.1, amount * rng.uniform(3, 12, rounds), np.nan)
    post_s = pd.Series(np.where(np.isnan(post), "", np.round(np.nan_to_num(post), -3).astype(np.int64).astype(str)))
    n_leads = rng.choice([0, 0, 1, 1, 2, 3], rounds)
    inv_idx = rng.integers(orgs, n_all, size=(rounds, 3))
    lead = [",".join(org_uuid[inv_idx[i, :k]]) for i, k in enumerate(n_leads)]
    org_names = organizations["name"].to_numpy()[r_org]
    round_name = pd.Series(itype).str.replace("_", " ").str.title() + " - " + pd.Series(org_names)
    r_perm = round_name.str.lower().str.replace(r"[^a-z0-9]+", "-", regex=True) + "--" + pd.Series(r_uuid).str[:8]
    funding_rounds = pd.DataFrame({
        "uuid": r_uuid, "name": round_name, "type": "funding_round", "permalink": r_perm,
        "cb_url": "https://www.crunchbase.com/funding_round/" + r_perm, "rank": rng.integers(1, 3_000_000, rounds),
        "created_at": "2019-01-01 00:00:00", "updated_at": "2024-11-30 08:15:00",
        "country_code": organizations["country_code"].to_numpy()[r_org], "state_code": "", "region": "",
        "city": "Springfield", "investment_type": itype, "announced_on": ann_s,
        "raised_amount_usd": amount_s, "raised_amount": amount_s,
        "raised_amount_currency_code": np.where(amount_s == "", "", "USD"),
        "post_money_valuation_usd": post_s, "post_money_valuation": post_s,
        "post_money_valuation_currency_code": np.where(post_s == "", "", "USD"),
        "investor_count": n_leads + rng.integers(0, 6, rounds), "org_uuid": org_uuid[r_org],
        "org_name": org_names, "lead_investor_uuids": lead,
    })
    folder.mkdir(parents=True, exist_ok=True)
    fr, org = folder / "funding_rounds.csv", folder / "organizations.csv"
    funding_rounds.to_csv(fr, index=False)
    organizations.to_csv(org, index=False)
    return fr, org


# The reference: read both files, nothing else (pandas' own type inference, default engine
# unless "pyarrow" is given). Interpreter start-up and imports count on both sides.
_BARE_READ = """
import sys, pandas as pd
engine = None if sys.argv[3] == "c" else sys.argv[3]
a = pd.read_csv(sys.argv[1], engine=engine); b = pd.read_csv(sys.argv[2], engine=engine)
print(len(a), len(b))
"""


def _measure(cmd: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user + system), peak RSS (GB) and stdout of one child process.

    A tiny wrapper process runs ``cmd`` and reads ``RUSAGE_CHILDREN`` after it exits, so the
    peak RSS is that child's own and not the largest of all children this script started.
    """
    wrapper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
               "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
               "w = time.perf_counter() - t; u = resource.getrusage(resource.RUSAGE_CHILDREN); "
               "sys.stdout.write(p.stdout); sys.stderr.write(p.stderr); "
               "print('@@', w, u.ru_utime + u.ru_stime, u.ru_maxrss); sys.exit(p.returncode)")
    proc = subprocess.run([sys.executable, "-c", wrapper, *cmd], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"child failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    lines = proc.stdout.strip().splitlines()
    _, wall, cpu, kb = lines[-1].split()
    return float(wall), float(cpu), int(kb) / 1024**2, "\n".join(lines[:-1])


def _fastest(runs: list[tuple[float, float, float, str]]) -> tuple[float, float, float]:
    """Least wall time, least CPU time and largest peak RSS over repeated runs of one command."""
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1_000_000)
    ap.add_argument("--orgs", type=int, default=300_000, help="companies (investor orgs add 10%%)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--ai-share", type=float, default=0.15,
                    help="share of companies with AI categories / AI descriptions (0.5: stress case)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each side; the fastest is reported")
    ap.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it, or reuse it (default: a temp dir)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="aibubble-import-bench-") as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        fr, org = folder / "funding_rounds.csv", folder / "organizations.csv"
        if args.keep and fr.exists() and org.exists():
            print(f"reusing the export in {folder} ({(fr.stat().st_size + org.stat().st_size) / 1e6:,.0f} MB)")
        else:
            t = time.perf_counter()
            fr, org = generate(folder, args.rounds, args.orgs, args.seed, args.ai_share)
            gen_s = time.perf_counter() - t
            size_mb = (fr.stat().st_size + org.stat().st_size) / 1e6
            print(f"generated {args.rounds:,} rounds / {args.orgs:,} companies ({size_mb:,.0f} MB) in {gen_s:.1f} s")
        out = folder / "imported_funding_rounds.csv"
        commands = {
            "ref": [sys.executable, "-c", _BARE_READ, str(fr), str(org), "c"],
            "ref_arrow": [sys.executable, "-c", _BARE_READ, str(fr), str(org), "pyarrow"],
            "ours": [sys.executable, "-m", "analysis.cli", "import", "crunchbase", "--funding-rounds", str(fr),
                     "--organizations", str(org), "--out", str(out), "--force"],
        }
        runs: dict[str, list] = {name: [] for name in commands}
        for _ in range(max(args.repeat, 1)):
            for name, cmd in commands.items():
                out.unlink(missing_ok=True)  # each import writes a new file, as a first import does
                runs[name].append(_measure(cmd))
        print(runs["ours"][-1][3])
        print("\nwall time of each run (s): " + "; ".join(
            f"{name} {', '.join(f'{r[0]:.2f}' for r in rs)}" for name, rs in runs.items()))
        ref, ref_arrow, ours = (_fastest(runs[name]) for name in commands)
        rows = ["wall time (s)", "CPU time, user+sys (s)", "peak RSS (GB)"]
        table = pd.DataFrame({
            "ours (import crunchbase)": list(ours[:3]),
            "reference (bare pd.read_csv)": list(ref[:3]),
        }, index=rows)
        table["ratio"] = table.iloc[:, 0] / table.iloc[:, 1]
        table["bare read_csv(engine='pyarrow')"] = list(ref_arrow[:3])
        table["ratio vs pyarrow read"] = table.iloc[:, 0] / table.iloc[:, 3]
        print()
        print(table.to_string(float_format=lambda x: f"{x:,.2f}"))
        ok_time, ok_mem = table.iloc[0]["ratio"] <= 3, ours[2] < 3
        print(f"\ntargets: time ratio <= 3: {'met' if ok_time else 'MISSED'}; "
              f"peak memory < 3 GB: {'met' if ok_mem else 'MISSED'}  "
              f"(python {sys.version.split()[0]}, pandas {pd.__version__}, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
