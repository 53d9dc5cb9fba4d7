#!/usr/bin/env python3
"""Deterministic benchmark workload: an OS-like root tree packed as a one-layer gzip OCI image.

Everything comes from one seeded generator, so two runs with the same --scale and --seed give the same
tree, the same layer bytes and the same digests; the numbers in BENCHMARKS.md are then about hupd, not
about a different workload.

The layer is written with GNU tar (sorted names, fixed owner and mtime, hard links kept as link entries)
and gzip -n, the way an image build pipeline would; hupd's own `image create` does not emit hard links,
which the workload must have.
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys

MTIME = 1700000000
MIB = 1 << 20

# A 16-symbol table makes chunks that gzip squeezes to about half: machine code and data sections of
# real binaries compress roughly like that, pure random bytes would not compress at all.
LOW_ENTROPY = bytes((i % 16) * 17 for i in range(256))
WORDS = ("the of and to in is for on with as by at from this that config service network device "
         "update kernel module firmware driver option value enable disable path file user group "
         "system daemon socket timer mount target boot root data state health check").split()


def binary_bytes(rng, size):
    out = bytearray()
    while len(out) < size:
        n = min(64 * 1024, size - len(out))
        chunk = rng.randbytes(n)
        out += chunk if rng.random() < 0.45 else chunk.translate(LOW_ENTROPY)
    return bytes(out)


def text_bytes(rng, size):
    parts, total = [], 0
    while total < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12))) + "\n"
        parts.append(line)
        total += len(line)
    return "".join(parts).encode()[:size]


def write(root, rel, data, mode=0o644):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    os.chmod(p, mode)
    return p


def make_tree(root, scale, seed, version, device_type):
    rng = random.Random(seed)
    if os.path.exists(root):
        shutil.rmtree(root)
    os.makedirs(root)
    # What hupd checks in an OS image and what the simulated device's health checks look at.
    write(root, "etc/os-release", (f'ID=balena-os\nNAME="balenaOS"\nVERSION_ID={version}\n'
                                   f'BALENA_DEVICE_TYPE={device_type}\n').encode())
    write(root, "etc/hostname", b"balena\n")
    write(root, "boot/init", f"#!/bin/sh\n# kernel and init of {version}\n".encode(), 0o755)
    write(root, "usr/bin/balena-engine", f"#!/bin/sh\necho balena-engine {version}\n".encode(), 0o755)
    write(root, "usr/sbin/openvpn", b"#!/bin/sh\necho openvpn\n", 0o755)
    write(root, "usr/bin/rollback-board-healthcheck", b"#!/bin/sh\nexit 0\n", 0o755)
    write(root, "resin-boot/Image", binary_bytes(rng, int(8 * MIB * max(scale, 0.01))))
    write(root, "resin-boot/cmdline.txt", b"console=serial0,115200 root=LABEL=resin-rootA rootwait\n")
    write(root, "resin-boot/config.txt", f"# config.txt of {version}\n".encode())
    write(root, "resin-boot/os-version", f"{version}\n".encode())
    os.makedirs(os.path.join(root, "var/lib"), exist_ok=True)
    os.symlink("usr/sbin", os.path.join(root, "sbin"))
    if scale <= 0:
        # the small OS a benchmark device starts from: only what hupd and the health checks look at
        return

    # Large binaries: the engine, firmware blobs, big shared libraries (~190 MB at scale 1).
    for i in range(max(3, int(24 * scale))):
        size = rng.randint(4 * MIB, 12 * MIB)
        write(root, f"usr/lib/big/lib{i:02d}-big.so.1.0.{i}", binary_bytes(rng, size), 0o755)
    # Medium files: more libraries and executables (~50 MB).
    libs = []
    for i in range(max(10, int(220 * scale))):
        size = rng.randint(64 * 1024, 400 * 1024)
        rel = f"usr/lib/lib{i:03d}.so.{rng.randint(1, 9)}.{rng.randint(0, 20)}"
        write(root, rel, binary_bytes(rng, size), 0o755)
        libs.append(rel)
    # Thousands of small files in a deep-ish tree: config, scripts, locale, python-like modules (~60 MB).
    small = []
    dirs = [f"usr/share/{a}/{b}" for a in ("doc", "locale", "misc", "zoneinfo", "i18n", "python3")
            for b in range(12)] + [f"etc/{a}" for a in ("systemd/system", "udev/rules.d", "ssl/certs",
                                                            "NetworkManager", "dbus-1/system.d")]
    for i in range(max(300, int(6000 * scale))):
        d = rng.choice(dirs)
        size = int(rng.paretovariate(1.3) * 1500)
        size = min(size, 256 * 1024)
        rel = f"{d}/f{i:05d}.{rng.choice(('conf', 'txt', 'py', 'rules', 'pem', 'mo'))}"
        data = text_bytes(rng, size) if rng.random() < 0.7 else binary_bytes(rng, size)
        write(root, rel, data, 0o755 if rel.endswith(".py") and rng.random() < 0.2 else 0o644)
        small.append(rel)
    # One setuid binary, as real roots have (sudo, su): the mode must survive every pipeline.
    write(root, "usr/bin/su", binary_bytes(rng, 40 * 1024), 0o4755)
    # A busybox-style multi-call binary with its applets as hard links, plus hard-linked duplicates.
    write(root, "bin/busybox", binary_bytes(rng, 900 * 1024), 0o755)
    for i in range(max(20, int(150 * scale))):
        os.link(os.path.join(root, "bin/busybox"), os.path.join(root, f"bin/applet{i:03d}"))
    for i in range(max(10, int(100 * scale))):
        src = rng.choice(small)
        dst = os.path.join(root, "usr/share/dup", f"d{i:04d}-" + os.path.basename(src))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if not os.path.exists(dst):
            os.link(os.path.join(root, src), dst)
    # Symlinks: soname chains and /etc/alternatives style, relative and absolute (~1000 at scale 1).
    for rel in libs:
        base = rel.split(".so.")[0] + ".so"
        os.symlink(os.path.basename(rel), os.path.join(root, base))
    for i in range(max(50, int(800 * scale))):
        target = rng.choice(small)
        link = os.path.join(root, "etc/alternatives", f"alt{i:04d}")
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink("/" + target if i % 2 else os.path.relpath(os.path.join(root, target),
                                                                os.path.dirname(link)), link)
    # Identical mtimes everywhere (as a reproducible build would have) keep the tar bytes stable.
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            os.utime(os.path.join(dirpath, n), (MTIME, MTIME), follow_symlinks=False)
    os.utime(root, (MTIME, MTIME))


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def put_blob(blobs, data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return d


def make_image(root, layout, tag, version, device_type, arch):
    if os.path.exists(layout):
        shutil.rmtree(layout)
    blobs = os.path.join(layout, "blobs", "sha256")
    os.makedirs(blobs)
    tar_path = os.path.join(layout, "layer.tar")
    env = dict(os.environ, LC_ALL="C")
    subprocess.run(["tar", "--sort=name", "--format=gnu", "--owner=0", "--group=0", "--numeric-owner",
                    f"--mtime=@{MTIME}", "-C", root, "-cf", tar_path, "."], check=True, env=env)
    diff_id = sha256_file(tar_path)
    gz_tmp = os.path.join(layout, "layer.tar.gz")
    with open(gz_tmp, "wb") as out:
        subprocess.run(["gzip", "-n", "-6", "-c", tar_path], check=True, stdout=out)
    os.remove(tar_path)
    layer_digest = sha256_file(gz_tmp)
    layer_size = os.path.getsize(gz_tmp)
    os.rename(gz_tmp, os.path.join(blobs, layer_digest))
    config = {"architecture": arch, "os": "linux",
              "config": {"Labels": {"io.balena.device-type": device_type,
                                    "org.opencontainers.image.version": version}},
              "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]}}
    cfg = json.dumps(config, sort_keys=True).encode()
    cfg_digest = put_blob(blobs, cfg)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": "sha256:" + cfg_digest, "size": len(cfg)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                            "digest": "sha256:" + layer_digest, "size": layer_size}]}
    man = json.dumps(manifest, sort_keys=True).encode()
    man_digest = put_blob(blobs, man)
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                            "digest": "sha256:" + man_digest, "size": len(man),
                            "platform": {"architecture": arch, "os": "linux"},
                            "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f, sort_keys=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    return {"layer": os.path.join(blobs, layer_digest), "layer_digest": "sha256:" + layer_digest,
            "layer_bytes": layer_size, "manifest_digest": "sha256:" + man_digest}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--layout", required=True)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--version", default="2.0.0")
    ap.add_argument("--device-type", default="bench-device")
    ap.add_argument("--arch", default="amd64")
    a = ap.parse_args()
    make_tree(a.root, a.scale, a.seed, a.version, a.device_type)
    info = make_image(a.root, a.layout, a.version, a.version, a.device_type, a.arch)
    files = links = symlinks = dirs = total = 0
    seen = set()
    for dirpath, dirnames, filenames in os.walk(a.root):
        dirs += len(dirnames)
        for n in filenames:
            st = os.lstat(os.path.join(dirpath, n))
            if os.path.islink(os.path.join(dirpath, n)):
                symlinks += 1
            else:
                files += 1
                links += st.st_nlink > 1
                if st.st_ino not in seen:
                    seen.add(st.st_ino)
                    total += st.st_size
    info.update(files=files, hardlinked=links, symlinks=symlinks, dirs=dirs, tree_bytes=total)
    json.dump(info, sys.stdout)
    print()


if __name__ == "__main__":
    main()
