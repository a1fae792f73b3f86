#!/usr/bin/env python3
"""Deterministic benchmark data for dms (SPEC §9 scale): the whole exchange in CSV.

    python3 benches/gen_data.py OUT_DIR [--seed N] [--users N] [--participants N]

writes, in OUT_DIR:
  participants.csv  id,name,house,max_users,domains          (1,500 participants)
  users.csv         participant,user_id,surname,other_names,email,role,srn,certificate_expiry,
                    pin_phc (~100,000 smartcard-era users: 3 DAs per participant - maker ..X1,
                    checkers ..X2 and ..X3 - and business users; a DA migrates with its
                    smartcard PIN's argon2id hash, PIN_PHC, the same for every DA)
  emails_full.csv   user_id,email: one row per business user of the full participant
  meta.json         which participant is full, its DA IDs, counts

ID formats follow src/domain/user_id.rs:
  HKSCC CP/DB participant: 6 chars [A-Z0-9]; business user = participant + 2 chars from
      0-9A-Z that are not a DA suffix [XYZ][1-9]; DA = participant + X1/X2/X3.
  HKCC/SEOCH participant: HK + 3 chars; business user = participant + the house's user ID
      digit (HKCC 1 or 3, SEOCH 2 or 4) + 2 such chars; DA = participant + 1 (HKCC) or 2
      (SEOCH) + X1/X2/X3.
An HKSCC participant has room for exactly 1,269 business users; one participant (the
"full" one, HKSCC CP) gets all of them, every other at most 1,269. The full participant's
business users have no e-mail address yet, so the bulk registration sets all 1,269.

Same seed, same bytes: the generator uses only random.Random(seed), no clock, no hash order.
"""

import argparse
import csv
import json
import os
import random

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PAIRS = [a + b for a in ALPHABET for b in ALPHABET if not (a in "XYZ" and b in "123456789")]
assert len(PAIRS) == 1269
HKSCC_CAPACITY = len(PAIRS)  # business users of an HKSCC participant
HK_CAPACITY = 2 * len(PAIRS)  # HKCC / SEOCH: two user ID digits each before the pair
HOUSE_DIGITS = {"hkcc": "13", "seoch": "24"}
DA_SPACE_HKSCC = 27  # X/Y/Z + 1-9
DA_SPACE_HK = 2 * 27

SURNAMES = ["CHAN", "WONG", "LEE", "CHEUNG", "LAU", "HO", "NG", "LEUNG", "CHOW", "TSANG", "LAM", "YIP",
            "TANG", "KWOK", "FUNG", "LO", "MAK", "YEUNG", "SO", "CHU", "POON", "TAM", "SIU", "KWAN"]
GIVEN = ["TAI MAN", "SIU MING", "KA YAN", "WAI KIN", "MEI LING", "CHI FAI", "HOI YAN", "KA HO",
         "WING SZE", "CHUN KIT", "YUK LAN", "MAN KIT", "PUI SHAN", "KWOK WAI", "SUK YEE", "HO YIN"]
# The argon2id hash (dms's parameters: m=19456, t=2, p=1) of the smartcard PIN 246810, made
# once with Debian's argon2 CLI: printf 246810 | argon2 dms-bench-pin-salt -id -k 19456 -t 2 -p 1 -e
# Before the 2FA launch an import requires one for every DA (src/ops/migration.rs).
PIN_PHC = "$argon2id$v=19$m=19456,t=2,p=1$ZG1zLWJlbmNoLXBpbi1zYWx0$Sxv3Yuu1M8kUwOxOLtYhp+kfrpMfs0N0+PGD+GkUYFA"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def participants(rng, n):
    """(id, house) for n participants: 73% HKSCC CP, 7% HKSCC DB, 13% HKCC, 7% SEOCH."""
    n_db, n_hkcc, n_seoch = n * 7 // 100, n * 13 // 100, n * 7 // 100
    n_cp = n - n_db - n_hkcc - n_seoch
    out = [(f"B{i:05d}", "hkscc-cp") for i in range(1, n_cp + 1)]
    out += [(f"BNK{i:03d}", "hkscc-db") for i in range(1, n_db + 1)]
    # HK + 3 characters: HKC.. for HKCC, HKS.. for SEOCH (two base-36 characters after).
    two = [a + b for a in ALPHABET for b in ALPHABET]
    out += [("HKC" + two[i], "hkcc") for i in range(n_hkcc)]
    out += [("HKS" + two[i], "seoch") for i in range(n_seoch)]
    return out


def business_counts(rng, n_parts, total, full_index):
    """Business users per participant: skewed (a few big brokers, many small ones), capped at
    1,269, exactly 1,269 for the full participant, summing to `total`."""
    rest = total - HKSCC_CAPACITY
    weights = [rng.lognormvariate(0, 0.9) for _ in range(n_parts)]
    weights[full_index] = 0.0
    s = sum(weights)
    counts = [min(HKSCC_CAPACITY - 1, max(1, int(w / s * rest))) for w in weights]
    counts[full_index] = 0
    # Fix the rounding so the total is exact, spreading the difference at random.
    diff = rest - sum(counts)
    order = [i for i in range(n_parts) if i != full_index]
    while diff != 0:
        i = rng.choice(order)
        step = 1 if diff > 0 else -1
        if 1 <= counts[i] + step <= HKSCC_CAPACITY - 1:
            counts[i] += step
            diff -= step
    counts[full_index] = HKSCC_CAPACITY
    return counts


def srn(rng):
    return "".join(rng.choice("0123456789ABCDEF") for _ in range(16))


def cert_expiry(rng):
    y, m, d = rng.randint(2026, 2029), rng.randint(1, 12), rng.randint(1, 28)
    if rng.random() < 0.5:  # the seed's form, e.g. 31-Dec-30 23:59:59
        return f"{d:02d}-{MONTHS[m - 1]}-{y % 100:02d} 23:59:59"
    return f"{y}-{m:02d}-{d:02d}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--participants", type=int, default=1500)
    ap.add_argument("--users", type=int, default=100_000, help="total users, DAs included")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)

    parts = participants(rng, a.participants)
    full_index = 0  # B00001, an HKSCC CP
    assert parts[full_index][1] == "hkscc-cp"
    n_business = a.users - 3 * len(parts)
    counts = business_counts(rng, len(parts), n_business, full_index)

    with open(os.path.join(a.out, "participants.csv"), "w", newline="") as pf, \
         open(os.path.join(a.out, "users.csv"), "w", newline="") as uf, \
         open(os.path.join(a.out, "emails_full.csv"), "w", newline="") as ef:
        pw, uw, ew = csv.writer(pf, lineterminator="\n"), csv.writer(uf, lineterminator="\n"), \
            csv.writer(ef, lineterminator="\n")
        pw.writerow(["id", "name", "house", "max_users", "domains"])
        uw.writerow(["participant", "user_id", "surname", "other_names", "email", "role", "srn",
                     "certificate_expiry", "pin_phc"])
        ew.writerow(["user_id", "email"])
        total = 0
        for (pid, house), n in zip(parts, counts):
            hk = house in ("hkcc", "seoch")
            domain = f"{pid.lower()}.example.com.hk"
            space = (HK_CAPACITY + DA_SPACE_HK) if hk else (HKSCC_CAPACITY + DA_SPACE_HKSCC)
            max_users = min(space, n + 3 + rng.randint(0, 40))
            if parts.index((pid, house)) == full_index:
                max_users = space  # 1,296: 1,269 business users + 27 DA IDs
            pw.writerow([pid, f"PARTICIPANT {pid} LIMITED", house, max_users, domain])
            infix = HOUSE_DIGITS[house][0] if hk else ""
            for suffix, role in (("X1", "maker"), ("X2", "checker"), ("X3", "checker")):
                uid = pid + infix + suffix
                uw.writerow([pid, uid, rng.choice(SURNAMES), rng.choice(GIVEN),
                             f"da.{uid.lower()}@{domain}", role, srn(rng), cert_expiry(rng), PIN_PHC])
            # Business-user IDs: a random sample of the participant's ID space, in ID order.
            if hk:
                space_ids = [pid + d + p for d in HOUSE_DIGITS[house] for p in PAIRS]
            else:
                space_ids = [pid + p for p in PAIRS]
            ids = sorted(rng.sample(space_ids, n))
            full = parts.index((pid, house)) == full_index
            for uid in ids:
                # Most smartcard-era users already have an address; the full participant's none.
                email = "" if full or rng.random() < 0.3 else f"u.{uid.lower()}@{domain}"
                uw.writerow([pid, uid, rng.choice(SURNAMES), rng.choice(GIVEN), email, "user",
                             srn(rng), cert_expiry(rng), ""])
                if full:
                    ew.writerow([uid, f"u.{uid.lower()}@{domain}"])
            total += n + 3
    full_pid = parts[full_index][0]
    # A typical participant: an HKSCC CP with the median number of business users.
    cps = sorted((c, pid) for (pid, house), c in zip(parts, counts) if house == "hkscc-cp")
    typical_n, typical = cps[len(cps) // 2]
    meta = {
        "seed": a.seed,
        "participants": len(parts),
        "users": total,
        "full_participant": full_pid,
        "full_business_users": counts[full_index],
        "maker": full_pid + "X1",
        "checker": full_pid + "X2",
        "sample_user": full_pid + PAIRS[100],
        "typical_participant": typical,
        "typical_users": typical_n + 3,
    }
    with open(os.path.join(a.out, "meta.json"), "w") as mf:
        json.dump(meta, mf, indent=1)
        mf.write("\n")
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
