#!/usr/bin/env bash
# Start PostgreSQL and Redis on this machine if they are down (commands from the
# machine's notes). With --check, only say plainly how to start them when they are down.
set -u
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if [ "${1:-}" = "--check" ]; then
  ok=1
  pg_up || { echo "PostgreSQL is not answering on 127.0.0.1:5432. Start it with: make services" \
                  "(or: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start)"; ok=0; }
  redis_up || { echo "Redis is not answering on 127.0.0.1:6379. Start it with: make services" \
                     "(or: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '')"; ok=0; }
  [ $ok = 1 ] || exit 1
  exit 0
fi

if ! pg_up; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if ! redis_up; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
fi
pg_up && echo "PostgreSQL up" || { echo "PostgreSQL did not start"; exit 1; }
redis_up && echo "Redis up" || { echo "Redis did not start"; exit 1; }
