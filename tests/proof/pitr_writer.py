"""The R9 drill's writer: commits a row and an access-log entry together, again and again, and
appends each acknowledged commit (row id, log seq, the client's clock) to a file. At the end it
verifies the chain and writes the checkpoint kept outside the database.

    python -m tests.proof.pitr_writer --seconds 60 --out acks.jsonl   (DATABASE_URL: the drill cluster)
"""

import argparse
import json
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--pause", type=float, default=0.02)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction

    from accesslog.chain import chain_verify
    from accesslog.checkpoints import checkpoint_write
    from accesslog.services import Actor, access_log_record

    actor = Actor(kind="person", username="dien_tap", name="Bác sĩ Diễn Tập")
    end = time.monotonic() + args.seconds
    n = 0
    with open(args.out, "a", encoding="utf-8") as out:
        while time.monotonic() < end:
            with transaction.atomic():
                with connection.cursor() as cur:
                    cur.execute(
                        "INSERT INTO drill_writes (payload) VALUES (%s) RETURNING id", [f"ghi {n} — Nguyễn Thị Hằng"]
                    )
                    row_id = cur.fetchone()[0]
                entry = access_log_record(
                    actor=actor, event="view", viewed="book", outcome=0, purpose="TREAT", details={"drill_row": row_id}
                )
            out.write(json.dumps({"id": row_id, "seq": entry["seq"], "ack": time.time()}) + "\n")
            out.flush()
            n += 1
            time.sleep(args.pause)
    result = chain_verify()
    checkpoint_write(result)
    print(json.dumps({"writes": n, "chain": result.line()}))
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
