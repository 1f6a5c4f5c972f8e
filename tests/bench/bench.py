#!/usr/bin/env python3
"""bench.py: W1-W8 of issue 5, bridgefs side by side with rclone, s3fs and a plain-curl ceiling.

Run through tests/bench/run, which installs the peers, starts the tuned servers and exports
AWS_ENDPOINT_URL, SWIFT_PORT, AZURITE_PORT, AZURE_STORAGE_CONNECTION_STRING, BENCH_PROXY_PORT,
EMU_SWIFT_DIR, EMU_AZURITE_DIR, BRIDGEFS, BRIDGEFS_BUILD. Python 3 standard library only.
Secrets (the Azurite key, the SAS signature, the Swift token) are never printed.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

KIB = 1024
MIB = 1024 * 1024
GIB = 1024 * MIB
TIME_BIN = '/usr/bin/time'

# Full sizes (issue 5); --scale multiplies counts and sizes, --quick uses QUICK.
FULL = {'w1_n': 2000, 'w1_prefixes': 20, 'w1_size': 16 * KIB,
        'w2_n': 4, 'w2_size': 256 * MIB,
        'w3_n': 20000, 'w3_prefixes': 200, 'w3_size': 1 * KIB,
        'w6_size': 1 * GIB,
        'w8_n': 10000000, 'w8_lookups': 1000000}
QUICK = {'w1_n': 20, 'w1_prefixes': 2, 'w1_size': 16 * KIB,
         'w2_n': 2, 'w2_size': 4 * MIB,
         'w3_n': 40, 'w3_prefixes': 4, 'w3_size': 1 * KIB,
         'w6_size': 8 * MIB,
         'w8_n': 2000, 'w8_lookups': 20000}

TARGETS = {
    'W1': 'time <= 0.5x rclone; speed >= 0.7x ceiling',
    'W2': 'time <= 0.8x rclone; speed >= 0.7x ceiling',
    'W3': 'time <= 0.5x rclone',
    'W3w': 'time <= 0.5x rclone',
    'W4': 'time <= 0.5x rclone check',
    'W5c': 'cold <= 0.25x s3fs; LIST = ceil(N/1000) (+1 per prefix), no HEAD per entry',
    'W5w': 'warm <= 0.05x s3fs; 0 LIST',
    'W5cs': 'cold <= 0.25x s3fs; LIST = ceil(N/1000) (+1 per prefix), no HEAD per entry',
    'W5ws': 'warm <= 0.05x s3fs; 0 LIST',
    'W6w': 'speed >= 0.8x ceiling; >= 1.5x s3fs',
    'W6wa': 'speed >= 0.8x ceiling; >= 1.5x s3fs',
    'W6r': 'speed >= 0.8x ceiling; >= 1.5x s3fs',
    'W7': 'mount <= 128 MiB; mirror <= 64 MiB and flat',
    'W8': 'insert <= 60 s; <= 2 GiB on disk; >= 500,000 lookups/s',
}


def log(msg):
    sys.stderr.write('bench: %s\n' % msg)
    sys.stderr.flush()


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.jobs = args.jobs
        self.rounds = 1 if args.quick and not args.rounds else (args.rounds or 3)
        base = dict(QUICK if args.quick else FULL)
        if args.scale and not args.quick:
            # Counts of small objects and sizes of big ones scale; W1's 16 KiB and W2's 4 stay.
            for k in ('w1_n', 'w3_n', 'w2_size', 'w6_size', 'w8_n', 'w8_lookups'):
                base[k] = max(1, int(base[k] * args.scale))
            base['w8_n'] = max(1000, base['w8_n'])
            for k in ('w1_prefixes', 'w3_prefixes'):
                base[k] = max(1, min(base[k], base[k.replace('prefixes', 'n')]))
        self.sz = base
        self.bfs_bin = os.environ.get('BRIDGEFS')
        self.build = os.environ.get('BRIDGEFS_BUILD')
        self.seed_bin = os.path.join(self.build, 'tests', 'bfs_seed')
        self.mc_bench = os.path.join(self.build, 'tests', 'mc_bench')
        self.swift_port = os.environ['SWIFT_PORT']
        self.az_port = os.environ['AZURITE_PORT']
        self.proxy_port = os.environ.get('BENCH_PROXY_PORT')
        self.tmp = tempfile.mkdtemp(prefix='bench.', dir=args.tmpfs)
        self.logdir = os.path.join(self.tmp, 'logs')
        os.makedirs(self.logdir)
        self.have_time = os.access(TIME_BIN, os.X_OK)
        self.results = []
        self.perf_dir = os.path.abspath(args.perf) if args.perf else None
        self.profiles = {}
        if self.perf_dir:
            os.makedirs(self.perf_dir, exist_ok=True)
        self.uniq = 0
        self.mounts = []
        self.sas = self.account_sas()
        self.az_proxy = None
        self.az_proxy_port = None
        self.swift_url, self.swift_token = self.swift_auth()

    # ---------------------------------------------------------------- plumbing
    def name(self, base):
        self.uniq += 1
        return '%s-%d-%d' % (base, os.getpid() % 100000, self.uniq)

    def env(self, **extra):
        e = dict(os.environ)
        e.pop('AWS_CA_BUNDLE', None)
        e.update({k: str(v) for k, v in extra.items()})
        return e

    def account_sas(self):
        cs = dict(p.split('=', 1) for p in os.environ['AZURE_STORAGE_CONNECTION_STRING'].split(';')
                  if '=' in p)
        acct, key = cs['AccountName'], base64.b64decode(cs['AccountKey'])
        exp = (datetime.datetime.utcnow() + datetime.timedelta(days=2)).strftime('%Y-%m-%dT%H:%M:%SZ')
        f = {'sv': '2019-12-12', 'ss': 'b', 'srt': 'sco', 'sp': 'rwdlacup', 'se': exp, 'spr': 'https,http'}
        sts = '\n'.join([acct, f['sp'], f['ss'], f['srt'], '', f['se'], '', f['spr'], f['sv'], ''])
        f['sig'] = base64.b64encode(hmac.new(key, sts.encode(), hashlib.sha256).digest()).decode()
        return urllib.parse.urlencode(f)

    def az_base(self):
        return 'http://127.0.0.1:%s/devstoreaccount1' % self.az_port

    def swift_auth(self):
        req = urllib.request.Request('http://127.0.0.1:%s/auth/v1.0' % self.swift_port,
                                     headers={'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing'})
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.headers['X-Storage-Url'], r.headers['X-Auth-Token']

    def rclone_env(self, s3_endpoint=None):
        return self.env(
            RCLONE_CONFIG_BS3_TYPE='s3', RCLONE_CONFIG_BS3_PROVIDER='Other',
            RCLONE_CONFIG_BS3_ENDPOINT=s3_endpoint or os.environ['AWS_ENDPOINT_URL'],
            RCLONE_CONFIG_BS3_ACCESS_KEY_ID=os.environ['AWS_ACCESS_KEY_ID'],
            RCLONE_CONFIG_BS3_SECRET_ACCESS_KEY=os.environ['AWS_SECRET_ACCESS_KEY'],
            RCLONE_CONFIG_BS3_REGION='us-east-1',
            RCLONE_CONFIG_BAZ_TYPE='azureblob',
            RCLONE_CONFIG_BAZ_SAS_URL='%s?%s' % (self.az_base(), self.sas))

    def run(self, cmd, env=None, check=True, out=None, tag='cmd'):
        """Runs cmd; returns (seconds, peak RSS KiB or None, rc). Output goes to a log file."""
        logf = os.path.join(self.logdir, '%s.%d.log' % (tag, self.uniq_log()))
        rssf = logf + '.rss'
        full = list(cmd)
        if self.have_time:
            full = [TIME_BIN, '-f', '%M', '-o', rssf] + full
        t0 = time.monotonic()
        with open(logf, 'wb') as lf:
            p = subprocess.run(full, env=env or self.env(), stdout=out or lf, stderr=lf,
                               stdin=subprocess.DEVNULL)
        dt = time.monotonic() - t0
        rss = read_rss(rssf)
        if check and p.returncode != 0:
            raise RuntimeError('%s failed (exit %d), log %s:\n%s' % (
                ' '.join(cmd[:3]), p.returncode, logf, tail(logf)))
        return dt, rss, p.returncode

    _log_n = 0

    def uniq_log(self):
        Bench._log_n += 1
        return Bench._log_n

    def bfs(self, *a, env=None, check=True):
        return self.run([self.bfs_bin] + list(a), env=env, check=check, tag='bfs')

    # ---------------------------------------------------------------- mounts
    def mount(self, tool, source, env=None, opts=''):
        """Starts a foreground mount of source under /usr/bin/time; returns a handle."""
        mp = tempfile.mkdtemp(prefix='mnt-%s.' % tool, dir=self.tmp)
        logf = os.path.join(self.logdir, 'mount-%s.%d.log' % (tool, self.uniq_log()))
        rssf = logf + '.rss'
        if tool == 'bridgefs':
            cmd = [self.bfs_bin, 'mount', '-f', '-o', opts, source, mp]
        elif tool == 's3fs':
            cmd = ['s3fs', source, mp, '-f', '-o', 'url=http://127.0.0.1:%s' % env.pop('_PORT'),
                   '-o', 'use_path_request_style', '-o', 'parallel_count=%d' % self.jobs]
            if opts:
                cmd += ['-o', opts]
        else:
            cmd = ['rclone', 'mount', source, mp, '--transfers', str(self.jobs)] + opts.split()
        if self.have_time:
            cmd = [TIME_BIN, '-f', '%M', '-o', rssf] + cmd
        lf = open(logf, 'wb')
        p = subprocess.Popen(cmd, env=env or self.env(), stdout=lf, stderr=lf,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        h = {'tool': tool, 'mp': mp, 'p': p, 'rss': rssf, 'log': logf, 'lf': lf}
        self.mounts.append(h)
        deadline = time.monotonic() + 60
        while not is_mounted(mp):
            if p.poll() is not None or time.monotonic() > deadline:
                self.unmount(h)
                raise RuntimeError('%s mount of %s failed, log %s:\n%s' % (tool, source, logf,
                                                                          tail(logf)))
            time.sleep(0.05)
        return h

    def unmount(self, h):
        """Unmounts (bridgefs waits for its uploads); returns the daemon's peak RSS KiB."""
        if h not in self.mounts:
            return None
        self.mounts.remove(h)
        mp = h['mp']
        for _ in range(20):  # busy for a moment after an interrupted client: retry, then lazily
            if not is_mounted(mp):
                break
            # Every tool is unmounted the same way and its daemon awaited (a bridgefs daemon
            # finishes its uploads before it exits); `bridgefs umount` itself polls slowly.
            subprocess.run(['fusermount3', '-u', mp], stderr=subprocess.DEVNULL)
            if is_mounted(mp):
                time.sleep(0.5)
        if is_mounted(mp):
            subprocess.run(['fusermount3', '-uz', mp], stderr=subprocess.DEVNULL)
        try:
            h['p'].wait(timeout=300)
        except subprocess.TimeoutExpired:
            subprocess.run(['fusermount3', '-uz', mp], stderr=subprocess.DEVNULL)
            h['p'].kill()
            h['p'].wait()
        h['lf'].close()
        try:
            os.rmdir(mp)
        except OSError:
            pass
        return read_rss(h['rss'])

    def unmount_all(self):
        for h in list(self.mounts):
            self.unmount(h)

    # ---------------------------------------------------------------- data
    def seed(self, url, n, prefixes, size):
        per = n // prefixes
        extra = n - per * prefixes
        for i in range(prefixes):
            cnt = per + (1 if i < extra else 0)
            if cnt:
                self.run([self.seed_bin, '%s/p%03d' % (url, i), str(cnt), '--jobs', '8',
                          '--size', str(size)], tag='seed')

    def keys(self, n, prefixes):
        per = n // prefixes
        extra = n - per * prefixes
        out = []
        for i in range(prefixes):
            cnt = per + (1 if i < extra else 0)
            out += ['p%03d/obj-%06d' % (i, j) for j in range(cnt)]
        return out

    def az_rm_container(self, c):
        subprocess.run(['curl', '-s', '-o', '/dev/null', '-X', 'DELETE',
                        '%s/%s?restype=container&%s' % (self.az_base(), c, self.sas)])

    def big_file(self, size, name):
        path = os.path.join(self.tmp, name)
        if not os.path.exists(path):
            with open(path, 'wb') as f:
                left = size
                while left > 0:
                    n = min(left, 8 * MIB)
                    f.write(os.urandom(n))
                    left -= n
        return path

    # ---------------------------------------------------------------- ceiling with curl
    def curl_parallel(self, items, headers, tag):
        """items: list of (url, output_or_None, upload_file_or_None, range_or_None). Returns s."""
        cfg = os.path.join(self.tmp, 'curl-%s.cfg' % tag)
        with open(cfg, 'w') as f:
            for url, outp, up, rng in items:
                f.write('next\n' if f.tell() else '')
                f.write('url = "%s"\n' % url)
                f.write('output = "%s"\n' % (outp or '/dev/null'))
                if up:
                    f.write('upload-file = "%s"\n' % up)
                if rng:
                    f.write('range = "%s"\n' % rng)
                for h in headers:
                    f.write('header = "%s"\n' % h)
                f.write('write-out = "%{http_code}\\n"\n')
        cmd = ['curl', '-s', '-Z', '--parallel-max', str(self.jobs), '-K', cfg]
        t0 = time.monotonic()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        dt = time.monotonic() - t0
        codes = p.stdout.decode().split()
        bad = [c for c in codes if not c.startswith('2')]
        if p.returncode != 0 or bad or len(codes) != len(items):
            raise RuntimeError('curl ceiling %s: exit %d, %d answers, %d not 2xx' % (
                tag, p.returncode, len(codes), len(bad)))
        os.unlink(cfg)
        return dt

    def ceiling_copy(self, bucket, keys, sizes_hint, dst_container):
        """GET every key from Swift's native API to tmpfs, then PUT every file to Azurite."""
        stage = tempfile.mkdtemp(prefix='ceil.', dir=self.tmp)
        tok = 'X-Auth-Token: %s' % self.swift_token
        gets = [('%s/%s/%s' % (self.swift_url, bucket, urllib.parse.quote(k)),
                 os.path.join(stage, k.replace('/', '_')), None, None) for k in keys]
        tget = self.curl_parallel(gets, [tok], 'get')
        puts = [('%s/%s/%s?%s' % (self.az_base(), dst_container, urllib.parse.quote(k), self.sas),
                 None, os.path.join(stage, k.replace('/', '_')), None) for k in keys]
        tput = self.curl_parallel(puts, ['x-ms-blob-type: BlockBlob'], 'put')
        shutil.rmtree(stage)
        return tget + tput

    # ---------------------------------------------------------------- emulator CPU
    def emu_cpu(self):
        """CPU seconds used so far by the Swift and Azurite processes."""
        out = {'swift': 0.0, 'azurite': 0.0}
        sd = os.environ.get('EMU_SWIFT_DIR', '\0')
        ap = os.environ.get('AZURITE_PORT', 'none')
        tck = os.sysconf('SC_CLK_TCK')
        for pid in os.listdir('/proc'):
            if not pid.isdigit():
                continue
            try:
                with open('/proc/%s/cmdline' % pid, 'rb') as f:
                    cl = f.read().decode(errors='replace')
                with open('/proc/%s/stat' % pid) as f:
                    st = f.read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            cpu = (int(st[11]) + int(st[12])) / tck
            if sd in cl and 'faultproxy' not in cl:
                out['swift'] += cpu
            elif 'azurite' in cl and ('--blobPort\0%s\0' % ap) in cl:
                out['azurite'] += cpu
        return out

    def measured(self, fn):
        """Runs fn() -> dict with 's'; adds emulator CPU % over the run."""
        c0 = self.emu_cpu()
        r = fn()
        c1 = self.emu_cpu()
        r['emu_cpu_pct'] = {k: round(100 * (c1[k] - c0[k]) / max(r['s'], 1e-6))
                            for k in c0}
        return r

    # ---------------------------------------------------------------- rounds
    def rounds_of(self, contestants, tag=None):
        """contestants: dict name -> fn returning dict(s=..., rss=..., ...). A B A B order.
        With --perf and a tag, one more untimed round of each runs under `perf record -a`."""
        res = {k: [] for k in contestants}
        for r in range(self.rounds):
            for name, fn in contestants.items():
                log('  round %d: %s' % (r + 1, name))
                res[name].append(self.measured(fn))
        if self.perf_dir and tag:
            for name, fn in contestants.items():
                log('  profiled round: %s' % name)
                self.profiled(fn, '%s-%s' % (tag, name))
        return {k: summarize(v) for k, v in res.items()}

    def profiled(self, fn, label):
        """Runs fn() under a system-wide `perf record -g` (software clock, 199 Hz); writes
        LABEL.data, LABEL.comm.txt (CPU samples per command: bridgefs, node = Azurite,
        python3 = Swift, rclone, kernel threads) and LABEL.bridgefs.txt (bridgefs's hottest
        symbols), and keeps the per-command shares for the JSON."""
        data = os.path.join(self.perf_dir, label + '.data')
        p = subprocess.Popen(['perf', 'record', '-a', '-g', '-F', '199', '-o', data],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        try:
            fn()
        finally:
            p.send_signal(2)
            p.wait()
        rep = ['perf', 'report', '-i', data, '--stdio', '--no-children', '-g', 'none']
        comm = subprocess.run(rep + ['--sort', 'comm'], capture_output=True, text=True).stdout
        syms = subprocess.run(rep + ['--comm', 'bridgefs', '--sort', 'dso,sym'],
                              capture_output=True, text=True).stdout
        with open(os.path.join(self.perf_dir, label + '.comm.txt'), 'w') as f:
            f.write(comm)
        with open(os.path.join(self.perf_dir, label + '.bridgefs.txt'), 'w') as f:
            f.write('\n'.join(syms.splitlines()[:60]) + '\n')
        shares = {}
        for line in comm.splitlines():
            m = re.match(r'\s*([0-9.]+)%\s+(\S.*?)\s*$', line)
            if m and len(shares) < 8:
                shares[m.group(2)] = float(m.group(1))
        self.profiles[label] = shares

    def add(self, wid, title, tools, ceiling=None, extra=None, speed_bytes=None):
        row = {'id': wid, 'workload': title, 'target': TARGETS.get(wid, ''), 'tools': tools}
        if ceiling is not None:
            row['ceiling_s'] = ceiling
        if speed_bytes:
            row['bytes'] = speed_bytes
        if extra:
            row.update(extra)
        b = tools.get('bridgefs', {}).get('median_s')
        row['ratio_to_peer'] = {}
        for k, v in tools.items():
            if k != 'bridgefs' and b and v.get('median_s'):
                row['ratio_to_peer'][k] = round(b / v['median_s'], 3)
        if ceiling and b:
            row['speed_vs_ceiling'] = round(ceiling / b, 3)
        self.results.append(row)

    # ---------------------------------------------------------------- workloads
    def w_copy(self, wid):
        sz = self.sz
        if wid == 'W1':
            n, pre, size = sz['w1_n'], sz['w1_prefixes'], sz['w1_size']
            title = 'mirror S3->Blob %d x %s in %d prefixes' % (n, human(size), pre)
        else:
            n, pre, size = sz['w2_n'], 1, sz['w2_size']
            title = 'mirror S3->Blob %d x %s' % (n, human(size))
        src = self.name(wid.lower() + 'src')
        log('%s: seeding %s' % (wid, title))
        self.bfs('mb', 's3://' + src)
        if wid == 'W1':
            self.seed('s3://' + src, n, pre, size)
            keys = self.keys(n, pre)
        else:
            f = self.big_file(size, 'w2.bin')
            keys = ['p000/big-%d.bin' % i for i in range(n)]
            for k in keys:
                self.bfs('put', f, 's3://%s/%s' % (src, k))
        rss_mounts = []

        def bridgefs(env=None):
            dst = self.name(wid.lower() + 'b')
            self.bfs('mb', 'az://' + dst)
            cache = tempfile.mkdtemp(prefix='cache.', dir=self.tmp)
            t0 = time.monotonic()
            if env:
                self.proxy('DELETE')
                self.az_reset()
            ms = self.mount('bridgefs', 's3://' + src, env=env, opts='cache=%s' % cache)
            md = self.mount('bridgefs', 'az://' + dst, env=env, opts='cache=%s' % cache)
            _, rss, _ = self.bfs('mirror', '--no-progress', '-j', str(self.jobs), '--log-dir',
                                 os.path.join(self.tmp, 'jobs'), ms['mp'], md['mp'])
            r1, r2 = self.unmount(ms), self.unmount(md)
            dt = time.monotonic() - t0
            rss_mounts.append(max(r1 or 0, r2 or 0))
            if env:
                counted['bridgefs'] = {'s3': self.proxy_counts(src), 'azure': self.az_counts(dst)}
            self.az_rm_container(dst)
            shutil.rmtree(cache)
            return {'s': dt, 'rss_kib': rss, 'mount_rss_kib': max(r1 or 0, r2 or 0)}

        def rclone(env=None):
            dst = self.name(wid.lower() + 'r')
            self.bfs('mb', 'az://' + dst)
            if env:
                self.proxy('DELETE')
                self.az_reset()
            dt, rss, _ = self.run(['rclone', 'sync', '--transfers', str(self.jobs), '--checkers',
                                   str(self.jobs), 'bs3:' + src, 'baz:' + dst],
                                  env=env or self.rclone_env(), tag='rclone')
            if env:
                counted['rclone'] = {'s3': self.proxy_counts(src), 'azure': self.az_counts(dst)}
            self.az_rm_container(dst)
            return {'s': dt, 'rss_kib': rss}

        counted = {}
        tools = self.rounds_of({'bridgefs': bridgefs, 'rclone': rclone}, tag=wid)
        benv, renv = self.counted_envs()
        bridgefs(benv)
        rclone(renv)
        for k, v in counted.items():
            tools[k]['requests'] = v['s3']
            tools[k]['azure_requests'] = v['azure']
        ceil = []
        for _ in range(self.rounds):
            dst = self.name(wid.lower() + 'c')
            self.bfs('mb', 'az://' + dst)
            ceil.append(self.ceiling_copy(src, keys, size, dst))
            self.az_rm_container(dst)
        self.add(wid, title, tools, ceiling=round(statistics.median(ceil), 3),
                 speed_bytes=n * size, extra={'ceiling_method': 'curl -Z: GET Swift native API '
                                              '(tempauth) to tmpfs, then PUT to Azurite (SAS)'})
        return src

    def w345(self, only):
        sz = self.sz
        n, pre, size = sz['w3_n'], sz['w3_prefixes'], sz['w3_size']
        src, dst = self.name('w3src'), self.name('w3dst')
        log('W3-W5: seeding %d x %s in %d prefixes' % (n, human(size), pre))
        self.bfs('mb', 's3://' + src)
        self.bfs('mb', 'az://' + dst)
        self.seed('s3://' + src, n, pre, size)

        ep = 'http://127.0.0.1:%s' % self.proxy_port

        def bfs_mounted(cmd_args, check=True, s3env=None, cache=None):
            # cache: a cache folder to (re)use and keep; default a fresh one, removed after
            keep = cache is not None
            if not keep:
                cache = tempfile.mkdtemp(prefix='cache.', dir=self.tmp)
            t0 = time.monotonic()
            ms = self.mount('bridgefs', 's3://' + src, env=s3env, opts='cache=%s' % cache)
            md = self.mount('bridgefs', 'az://' + dst, opts='cache=%s' % cache)
            _, rss, rc = self.bfs(*(cmd_args + [ms['mp'], md['mp']]), check=check)
            r1, r2 = self.unmount(ms), self.unmount(md)
            dt = time.monotonic() - t0
            if not keep:
                shutil.rmtree(cache)
            return {'s': dt, 'rss_kib': rss, 'mount_rss_kib': max(r1 or 0, r2 or 0), 'rc': rc}

        log('W3-W5: first copy (bridgefs mirror, then rclone sync on the same target; untimed)')
        first = bfs_mounted(['mirror', '--no-progress', '-j', str(self.jobs), '--log-dir',
                             os.path.join(self.tmp, 'jobs')])
        rcl = ['rclone', 'sync', '--transfers', str(self.jobs), '--checkers', str(self.jobs),
               'bs3:' + src, 'baz:' + dst]
        self.run(rcl, env=self.rclone_env(), tag='rclone')
        if 'W3' in only:
            log('W3: no-op re-mirror')
            tools = self.rounds_of({
                'bridgefs': lambda: bfs_mounted(['mirror', '--no-progress', '-j', str(self.jobs),
                                                 '--log-dir', os.path.join(self.tmp, 'jobs')]),
                'rclone': lambda: self.rclone_timed(rcl)}, tag='W3')
            self.count_s3(src, tools, lambda: bfs_mounted(
                ['mirror', '--no-progress', '-j', str(self.jobs), '--log-dir',
                 os.path.join(self.tmp, 'jobs')], s3env=self.env(AWS_ENDPOINT_URL=ep)),
                lambda: self.rclone_timed(rcl, env=self.rclone_env(ep)))
            self.add('W3', 'no-op re-mirror of %d objects' % n, tools,
                     extra={'first_copy_s': round(first['s'], 3)})
            # W3w: the same on a warm cache. The mounts' cache folder is kept from the run
            # before (as a migration re-run on the same machine does). Runs follow each other,
            # so listings younger than the TTL (60 s) are used as they are; older ones are
            # LISTed again, and what each object's HEAD told is kept while its ETag is
            # unchanged (no HEAD). rclone has no such cache: its rounds are W3's again.
            log('W3w: no-op re-mirror on a warm cache')
            warm = tempfile.mkdtemp(prefix='cache-warm.', dir=self.tmp)
            margs = ['mirror', '--no-progress', '-j', str(self.jobs), '--log-dir',
                     os.path.join(self.tmp, 'jobs')]
            bfs_mounted(margs, cache=warm)
            tw = self.rounds_of({
                'bridgefs': lambda: bfs_mounted(margs, cache=warm),
                'rclone': lambda: self.rclone_timed(rcl)}, tag='W3w')
            # counted through the proxy: the cache is per endpoint, so warm one for it first
            warmp = tempfile.mkdtemp(prefix='cache-warm.', dir=self.tmp)

            def counted_warm():
                penv = self.env(AWS_ENDPOINT_URL=ep)
                bfs_mounted(margs, cache=warmp, s3env=penv)
                self.proxy('DELETE')
                return bfs_mounted(margs, cache=warmp, s3env=penv)
            self.count_s3(src, tw, counted_warm,
                          lambda: self.rclone_timed(rcl, env=self.rclone_env(ep)))
            shutil.rmtree(warm)
            shutil.rmtree(warmp)
            self.add('W3w', 'no-op re-mirror of %d objects, warm cache (kept from a run before)'
                     % n, tw)
        def bfs_verify_urls(s3env=None):
            # the URL form: verify mounts both sides privately (with server_mtime: it
            # compares sizes and MD5s, so stat needs no HEAD) and unmounts; timed whole
            dt, rss, rc = self.bfs('verify', 's3://' + src, 'az://' + dst, env=s3env)
            return {'s': dt, 'rss_kib': rss, 'rc': rc}

        if 'W4' in only:
            log('W4: verify')
            tools = self.rounds_of({
                'bridgefs': bfs_verify_urls,
                'rclone': lambda: self.rclone_timed(
                    ['rclone', 'check', '--checkers', str(self.jobs), 'bs3:' + src,
                     'baz:' + dst])}, tag='W4')
            self.count_s3(src, tools, lambda: bfs_verify_urls(
                s3env=self.env(AWS_ENDPOINT_URL=ep)),
                lambda: self.rclone_timed(['rclone', 'check', '--checkers', str(self.jobs),
                                           'bs3:' + src, 'baz:' + dst],
                                          env=self.rclone_env(ep)))
            self.add('W4', 'verify %d objects by checksum' % n, tools)
        if 'W5' in only:
            self.w5(src, n, pre)

    def count_s3(self, bucket, tools, bfs_fn, rclone_fn):
        """One extra untimed pass of each tool with S3 through the counting proxy."""
        for name, fn in (('bridgefs', bfs_fn), ('rclone', rclone_fn)):
            self.proxy('DELETE')
            fn()
            tools[name]['requests'] = self.proxy_counts(bucket)

    def start_az_proxy(self):
        """A counting faultproxy in front of Azurite, for the untimed request-count passes."""
        if self.az_proxy:
            return
        fp = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          'faultproxy.py')
        self.az_proxy = subprocess.Popen(
            [sys.executable, fp, '--target', '127.0.0.1:%s' % self.az_port, '--flavor', 'azure',
             '--quiet'], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL)
        self.az_proxy_port = self.az_proxy.stdout.readline().decode().strip()

    def stop_az_proxy(self):
        if self.az_proxy:
            self.az_proxy.terminate()
            self.az_proxy.wait()
            self.az_proxy = None

    def counted_envs(self):
        """(bridgefs env, rclone env) with both services reached through the counting proxies."""
        self.start_az_proxy()
        s3ep = 'http://127.0.0.1:%s' % self.proxy_port
        cs = os.environ['AZURE_STORAGE_CONNECTION_STRING'].replace(
            '127.0.0.1:%s' % self.az_port, '127.0.0.1:%s' % self.az_proxy_port)
        benv = self.env(AWS_ENDPOINT_URL=s3ep, AZURE_STORAGE_CONNECTION_STRING=cs)
        renv = self.rclone_env(s3ep)
        renv['RCLONE_CONFIG_BAZ_SAS_URL'] = 'http://127.0.0.1:%s/devstoreaccount1?%s' % (
            self.az_proxy_port, self.sas)
        return benv, renv

    def az_counts(self, container):
        req = urllib.request.Request('http://127.0.0.1:%s/__stats' % self.az_proxy_port)
        with urllib.request.urlopen(req, timeout=30) as r:
            st = json.loads(r.read())
        c = {'total': st.get('total', 0)}
        for k, v in st.get('counts', {}).items():
            m, path = k.split(' ', 1)
            c[m] = c.get(m, 0) + v
        c['sample'] = [strip_sas(r) for r in st.get('requests', [])[:12]]
        return c

    def az_reset(self):
        req = urllib.request.Request('http://127.0.0.1:%s/__stats' % self.az_proxy_port,
                                     method='DELETE')
        urllib.request.urlopen(req, timeout=30).read()

    def rclone_timed(self, cmd, env=None):
        dt, rss, _ = self.run(cmd, env=env or self.rclone_env(), tag='rclone')
        return {'s': dt, 'rss_kib': rss}

    # W5: find + stat through the counting proxy.
    def proxy(self, method, path='/__stats'):
        req = urllib.request.Request('http://127.0.0.1:%s%s' % (self.proxy_port, path),
                                     method=method)
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read()
        return json.loads(body) if body else {}

    def proxy_counts(self, bucket):
        st = self.proxy('GET')
        c = {'LIST': 0, 'HEAD': 0, 'GET': 0, 'other': 0, 'total': st.get('total', 0)}
        for k, v in st.get('counts', {}).items():
            m, path = k.split(' ', 1)
            if m == 'GET' and path.rstrip('/') == '/' + bucket:
                c['LIST'] += v
            elif m == 'HEAD':
                c['HEAD'] += v
            elif m == 'GET':
                c['GET'] += v
            else:
                c['other'] += v
        c['sample'] = [strip_sas(r) for r in st.get('requests', [])[:12]]
        return c

    def w5(self, src, n, pre):
        log('W5: find + stat, cold then warm after a remount, through the counting proxy')
        ep = 'http://127.0.0.1:%s' % self.proxy_port

        def walk(mp):
            t0 = time.monotonic()
            p = subprocess.run(['find', mp, '-ls'], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
            dt = time.monotonic() - t0
            files = sum(1 for line in p.stdout.splitlines() if line.split()[2:3] and
                        line.split()[2].startswith(b'-'))
            return dt, files

        def one(tool, mount_args):
            out = {}
            cache = tempfile.mkdtemp(prefix='cache.', dir=self.tmp)
            rss = 0
            for phase in ('cold', 'warm'):
                source, env, opts = mount_args(cache)
                h = self.mount(tool, source, env=env, opts=opts)
                self.proxy('DELETE')
                c0 = self.emu_cpu()
                dt, files = walk(h['mp'])
                c1 = self.emu_cpu()
                counts = self.proxy_counts(src)
                rss = max(rss, self.unmount(h) or 0)
                out[phase] = {'s': dt, 'files': files, 'requests': counts,
                              'emu_cpu_pct': {k: round(100 * (c1[k] - c0[k]) / max(dt, 1e-6))
                                              for k in c0}}
                if files != n:
                    log('W5: %s %s saw %d files, want %d' % (tool, phase, files, n))
            shutil.rmtree(cache)
            out['rss_kib'] = rss
            return out

        def bfs_args(cache):
            return 's3://' + src, self.env(AWS_ENDPOINT_URL=ep), 'cache=%s,ttl=3600' % cache

        def bfs_smt_args(cache):  # stat from listings alone: mtime = Last-Modified, no HEAD
            return ('s3://' + src, self.env(AWS_ENDPOINT_URL=ep),
                    'cache=%s,ttl=3600,server_mtime' % cache)

        def s3fs_args(cache):
            return src, self.env(_PORT=self.proxy_port), ''

        def rclone_args(cache):
            return 'bs3:' + src, self.rclone_env(ep), '--dir-cache-time 1h'

        # name -> (tool, its mount arguments); bridgefs runs twice: default, and server_mtime
        fns = {'bridgefs': ('bridgefs', bfs_args), 'bridgefs_smt': ('bridgefs', bfs_smt_args),
               's3fs': ('s3fs', s3fs_args), 'rclone': ('rclone', rclone_args)}
        res = {k: [] for k in fns}
        for r in range(self.rounds):
            for k, (tool, f) in fns.items():
                log('  round %d: %s' % (r + 1, k))
                res[k].append(one(tool, f))
        for phase in ('cold', 'warm'):
            tools = {}
            for k, lst in res.items():
                s = summarize([dict(x[phase], rss_kib=x['rss_kib']) for x in lst])
                s['requests'] = lst[-1][phase]['requests']
                s['files'] = lst[-1][phase]['files']
                tools[k] = s
            title = 'find + stat %d objects in %d prefixes, %s%s' % (
                n, pre, phase, ' (after remount)' if phase == 'warm' else '')
            smt = tools.pop('bridgefs_smt')
            self.add('W5c' if phase == 'cold' else 'W5w', title, tools,
                     extra={'list_target': -(-n // 1000)})
            # the same peers, bridgefs mounted with -o server_mtime
            self.add('W5cs' if phase == 'cold' else 'W5ws', title + ', bridgefs -o server_mtime',
                     dict(tools, bridgefs=smt), extra={'list_target': -(-n // 1000)})

    def w6(self):
        size = self.sz['w6_size']
        f = self.big_file(size, 'w6.bin')
        bucket = self.name('w6')
        log('W6: sequential write and read of %s through the mount' % human(size))
        self.bfs('mb', 's3://' + bucket)
        self.bfs('put', f, 's3://%s/seed.bin' % bucket)
        ep = os.environ['AWS_ENDPOINT_URL']
        port = self.swift_port

        def margs(tool, cache):
            if tool == 'bridgefs':
                return 's3://' + bucket, None, 'cache=%s,jobs=%d' % (cache, self.jobs)
            if tool == 's3fs':
                return bucket, self.env(_PORT=port), ''
            return 'bs3:' + bucket, self.rclone_env(ep), ''

        md5 = hashlib.md5()
        with open(f, 'rb') as fh:
            for b in iter(lambda: fh.read(1 << 20), b''):
                md5.update(b)
        # W6wa: the same copy by a writer that announces the MD5 before the data (as `bridgefs
        # mirror` does into a mount), so the streamed S3 upload begins with it (no copy of the
        # object onto itself after the commit to add md5chksum)
        announce = ('import os, sys\n'
                    'fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)\n'
                    'os.setxattr(fd, "user.bridgefs.expect_md5", sys.argv[3].encode())\n'
                    'with open(sys.argv[2], "rb") as src:\n'
                    '    for b in iter(lambda: src.read(1 << 20), b""):\n'
                    '        os.write(fd, b)\n'
                    'os.close(fd)\n')

        def write(tool):
            cache = tempfile.mkdtemp(prefix='cache.', dir=self.tmp)
            key = self.name('w-' + tool)
            announced = tool == 'bridgefs_md5'
            tool = 'bridgefs' if announced else tool
            source, env, opts = margs(tool, cache)
            t0 = time.monotonic()
            h = self.mount(tool, source, env=env, opts=opts)
            if announced:
                self.run([sys.executable, '-c', announce, os.path.join(h['mp'], key), f,
                          md5.hexdigest()], tag='write')
            else:
                self.run(['cp', f, os.path.join(h['mp'], key)], tag='cp')
            rss = self.unmount(h)
            dt = time.monotonic() - t0
            self.bfs('rm', 's3://%s/%s' % (bucket, key), check=False)
            shutil.rmtree(cache)
            return {'s': dt, 'mount_rss_kib': rss, 'rss_kib': rss}

        def read(tool):
            cache = tempfile.mkdtemp(prefix='cache.', dir=self.tmp)
            source, env, opts = margs(tool, cache)
            t0 = time.monotonic()
            h = self.mount(tool, source, env=env, opts=opts)
            self.run(['cat', os.path.join(h['mp'], 'seed.bin')], out=subprocess.DEVNULL,
                     tag='cat')
            rss = self.unmount(h)
            dt = time.monotonic() - t0
            shutil.rmtree(cache)
            return {'s': dt, 'mount_rss_kib': rss, 'rss_kib': rss}

        peers = ('bridgefs', 's3fs', 'rclone')
        tools_w = self.rounds_of({t: (lambda t=t: write(t)) for t in peers + ('bridgefs_md5',)},
                                 tag='W6w')
        tools_wa = dict(tools_w, bridgefs=tools_w.pop('bridgefs_md5'))
        tools_r = self.rounds_of({t: (lambda t=t: read(t)) for t in peers}, tag='W6r')
        # Ceiling: the same bytes in `jobs` parallel pieces through Swift's native API.
        tok = 'X-Auth-Token: %s' % self.swift_token
        piece = -(-size // self.jobs)
        parts = []
        with open(f, 'rb') as fh:
            for i in range(self.jobs):
                pp = os.path.join(self.tmp, 'w6.part%d' % i)
                with open(pp, 'wb') as o:
                    o.write(fh.read(piece))
                parts.append(pp)
        cw, cr = [], []
        for _ in range(self.rounds):
            cw.append(self.curl_parallel(
                [('%s/%s/ceil-%d' % (self.swift_url, bucket, i), None, p, None)
                 for i, p in enumerate(parts)], [tok], 'w6put'))
            cr.append(self.curl_parallel(
                [('%s/%s/seed.bin' % (self.swift_url, bucket), None, None,
                  '%d-%d' % (i * piece, min(size, (i + 1) * piece) - 1))
                 for i in range(self.jobs)], [tok], 'w6get'))
        for p in parts:
            os.unlink(p)
        meth = 'curl -Z, %d parallel pieces, Swift native API (tempauth)' % self.jobs
        self.add('W6w', 'sequential write %s through the mount (mount..umount)' % human(size),
                 tools_w, ceiling=round(statistics.median(cw), 3), speed_bytes=size,
                 extra={'ceiling_method': meth + ' PUT'})
        self.add('W6wa', 'the same write, MD5 announced first (user.bridgefs.expect_md5, as '
                 'mirror does)', tools_wa, ceiling=round(statistics.median(cw), 3),
                 speed_bytes=size, extra={'ceiling_method': meth + ' PUT'})
        self.add('W6r', 'sequential read %s through the mount (mount..umount)' % human(size),
                 tools_r, ceiling=round(statistics.median(cr), 3), speed_bytes=size,
                 extra={'ceiling_method': meth + ' ranged GET'})

    def w7(self):
        """Peak RSS, from the rows measured above."""
        def get(wid, tool, key):
            for r in self.results:
                if r['id'] == wid and tool in r['tools']:
                    return r['tools'][tool].get(key)
            return None
        mount = [get(w, 'bridgefs', 'mount_rss_kib') for w in ('W6w', 'W6r')]
        mirror = {w: get(w, 'bridgefs', 'rss_kib') for w in ('W1', 'W3')}
        tools = {'bridgefs': {'mount_rss_kib': max([m for m in mount if m] or [0]) or None,
                              'mirror_rss_kib_W1': mirror['W1'],
                              'mirror_rss_kib_W3': mirror['W3']}}
        for peer, w in (('rclone', 'W1'), ('s3fs', 'W6w')):
            tools[peer] = {'rss_kib': get(w, peer, 'rss_kib')}
        self.results.append({'id': 'W7', 'workload': 'peak RSS: mount in W6, mirror in W1 and W3',
                             'target': TARGETS['W7'], 'tools': tools, 'ratio_to_peer': {}})

    def w8(self):
        n, lk = self.sz['w8_n'], self.sz['w8_lookups']
        log('W8: mc_bench -n %d -l %d' % (n, lk))
        d = tempfile.mkdtemp(prefix='mc.', dir=self.args.disk_tmp)
        logf = os.path.join(self.logdir, 'mc_bench.log')
        with open(logf, 'wb') as lf:
            p = subprocess.run([self.mc_bench, '-n', str(n), '-l', str(lk), '-d', d + '/c'],
                               stdout=subprocess.PIPE, stderr=lf)
        shutil.rmtree(d, ignore_errors=True)
        out = p.stdout.decode()
        if p.returncode != 0:
            raise RuntimeError('mc_bench failed (%d): %s %s' % (p.returncode, out, tail(logf)))
        m_ins = re.search(r'insert: (\d+) entries in ([\d.]+) s = (\d+) entries/s', out)
        m_size = re.search(r'size: data.mdb ([\d.]+) MiB on disk', out)
        m_lk = re.search(r'= (\d+) lookups/s', out)
        m_rss = re.search(r'max RSS (\d+) MiB', out)
        tools = {'bridgefs': {
            'median_s': float(m_ins.group(2)) if m_ins else None,
            'entries': int(m_ins.group(1)) if m_ins else None,
            'disk_mib': float(m_size.group(1)) if m_size else None,
            'lookups_per_s': int(m_lk.group(1)) if m_lk else None,
            'rss_kib': int(m_rss.group(1)) * 1024 if m_rss else None}}
        self.results.append({'id': 'W8', 'workload': 'LMDB cache: insert %d entries, %d random '
                             'lookups (mc_bench)' % (n, lk), 'target': TARGETS['W8'],
                             'tools': tools, 'ratio_to_peer': {}, 'raw': out.strip()})


# ---------------------------------------------------------------- helpers
def is_mounted(mp):
    with open('/proc/mounts') as f:
        return any(line.split()[1] == mp for line in f if len(line.split()) > 1)


def read_rss(path):
    try:
        with open(path) as f:
            lines = [ln.strip() for ln in f if ln.strip()]
        return int(lines[-1])
    except (OSError, ValueError, IndexError):
        return None


def tail(path, n=15):
    try:
        with open(path, errors='replace') as f:
            text = ''.join(f.readlines()[-n:])
    except OSError:
        return ''
    # Logs of the peers may echo the SAS URL or a token: never pass them on.
    text = re.sub(r'(sig=)[^&\s"]+', r'\1REDACTED', text)
    return re.sub(r'(AUTH_tk|X-Auth-Token: )\S+', r'\1REDACTED', text)


def strip_sas(target):
    """A request target without the SAS parameters (the signature is a secret)."""
    path, _, q = target.partition('?')
    keep = [p for p in q.split('&') if p and p.split('=', 1)[0] not in
            ('sig', 'se', 'sp', 'spr', 'srt', 'ss', 'sv', 'st', 'timeout')]
    return path + ('?' + '&'.join(keep) if keep else '')


def human(b):
    for unit, div in (('GiB', GIB), ('MiB', MIB), ('KiB', KIB)):
        if b >= div and b % div == 0:
            return '%d %s' % (b // div, unit)
    return '%d B' % b


def summarize(runs):
    s = [r['s'] for r in runs]
    out = {'median_s': round(statistics.median(s), 3), 'rounds_s': [round(x, 3) for x in s]}
    for key in ('rss_kib', 'mount_rss_kib'):
        v = [r.get(key) for r in runs if r.get(key)]
        if v:
            out[key] = max(v)
    cpu = {}
    for r in runs:
        for k, v in r.get('emu_cpu_pct', {}).items():
            cpu.setdefault(k, []).append(v)
    if cpu:
        out['emu_cpu_pct'] = {k: statistics.median(v) for k, v in cpu.items()}
    return out


def fmt_s(v):
    return '-' if v is None else ('%.2f' % v)


def fmt_mib(kib):
    return '-' if not kib else '%d' % round(kib / 1024)


def table(results, quick):
    hdr = ['id', 'bridgefs s', 'rclone s', 's3fs s', 'b/rclone', 'b/s3fs', 'ceiling s',
           'ceil/b', 'RSS MiB b|rc|s3', 'requests (LIST/HEAD/GET), emu CPU %']
    rows = []
    for r in results:
        t = r['tools']
        b, rc, s3 = t.get('bridgefs', {}), t.get('rclone', {}), t.get('s3fs', {})
        rq = []
        for k in ('bridgefs', 's3fs', 'rclone'):
            q = t.get(k, {}).get('requests')
            if q:
                rq.append('%s %d/%d/%d' % (k[0:2], q['LIST'], q['HEAD'], q['GET']))
            az = t.get(k, {}).get('azure_requests')
            if az:
                rq.append('%s az %s' % (k[0:2], ' '.join('%s %d' % (m, n) for m, n in
                                                         sorted(az.items())
                                                         if m not in ('total', 'sample'))))
        cpu = b.get('emu_cpu_pct')
        if cpu:
            rq.append('sw %d%% az %d%%' % (cpu.get('swift', 0), cpu.get('azurite', 0)))
        if r['id'] == 'W7':
            rss = 'mnt %s, mirror %s|%s; rc %s s3 %s' % (
                fmt_mib(b.get('mount_rss_kib')), fmt_mib(b.get('mirror_rss_kib_W1')),
                fmt_mib(b.get('mirror_rss_kib_W3')), fmt_mib(rc.get('rss_kib')),
                fmt_mib(s3.get('rss_kib')))
            rows.append([r['id'], '-', '-', '-', '-', '-', '-', '-', rss, ''])
            continue
        if r['id'] == 'W8':
            rows.append([r['id'], fmt_s(b.get('median_s')), '-', '-', '-', '-', '-', '-',
                         fmt_mib(b.get('rss_kib')), '%s entries, %s MiB disk, %s lookups/s' % (
                             b.get('entries'), b.get('disk_mib'), b.get('lookups_per_s'))])
            continue
        rat = r.get('ratio_to_peer', {})
        rows.append([r['id'], fmt_s(b.get('median_s')), fmt_s(rc.get('median_s')),
                     fmt_s(s3.get('median_s')),
                     '-' if 'rclone' not in rat else '%.2f' % rat['rclone'],
                     '-' if 's3fs' not in rat else '%.2f' % rat['s3fs'],
                     fmt_s(r.get('ceiling_s')),
                     '-' if 'speed_vs_ceiling' not in r else '%.2f' % r['speed_vs_ceiling'],
                     '%s|%s|%s' % (fmt_mib(b.get('rss_kib')), fmt_mib(rc.get('rss_kib')),
                                   fmt_mib(s3.get('rss_kib'))),
                     '; '.join(rq)])
    widths = [max(len(str(x[i])) for x in rows + [hdr]) for i in range(len(hdr))]
    lines = ['  '.join(str(c).ljust(w) for c, w in zip(x, widths)).rstrip() for x in [hdr] + rows]
    lines.append('')
    for r in results:
        lines.append('%-4s %s  [target: %s]' % (r['id'], r['workload'], r['target']))
    if quick:
        lines.append('(--quick: toy sizes, one round: no timing claims)')
    return '\n'.join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--json')
    ap.add_argument('--rounds', type=int, default=0)
    ap.add_argument('--only', default='W1,W2,W3,W4,W5,W6,W7,W8')
    ap.add_argument('--scale', type=float, default=0)
    ap.add_argument('--jobs', type=int, default=4)
    ap.add_argument('--tmpfs', default='/dev/shm' if os.path.isdir('/dev/shm') else '/tmp')
    ap.add_argument('--disk-tmp', default=os.environ.get('BRIDGEFS_TEST_TMP', '/tmp'))
    ap.add_argument('--perf', metavar='DIR',
                    help='one extra untimed round of W1, W2, W3, W4, W6 under perf record -a')
    args = ap.parse_args()
    only = {w.strip().upper() for w in args.only.split(',') if w.strip()}
    b = Bench(args)
    errors = []
    started = time.time()
    steps = [('W1', lambda: b.w_copy('W1')), ('W2', lambda: b.w_copy('W2')),
             ('W345', lambda: b.w345(only)), ('W6', b.w6), ('W7', b.w7), ('W8', b.w8)]
    for key, fn in steps:
        if key == 'W345':
            if not only & {'W3', 'W4', 'W5'}:
                continue
        elif key not in only:
            continue
        try:
            fn()
        except Exception as e:  # one workload failing must not hide the others
            errors.append('%s: %s' % (key, e))
            log('%s FAILED: %s' % (key, e))
        finally:
            b.unmount_all()
    b.stop_az_proxy()
    doc = {'quick': args.quick, 'rounds': b.rounds, 'jobs': b.jobs, 'scale': args.scale or 1,
           'sizes': b.sz, 'started': datetime.datetime.utcfromtimestamp(started).isoformat() + 'Z',
           'elapsed_s': round(time.time() - started, 1), 'command': ' '.join(sys.argv[1:]),
           'workloads': b.results, 'errors': errors, 'profiles': b.profiles,
           'versions': {'rclone': first_line(['rclone', 'version']),
                        's3fs': first_line(['s3fs', '--version'])}}
    print(table(b.results, args.quick))
    for e in errors:
        print('ERROR %s' % e.splitlines()[0])
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(doc, f, indent=1)
    if not errors:
        shutil.rmtree(b.tmp, ignore_errors=True)
    else:
        print('logs kept in %s' % b.logdir)
    return 1 if errors else 0


def first_line(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=10).stdout.decode().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return None


if __name__ == '__main__':
    sys.exit(main())
