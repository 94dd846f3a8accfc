#!/usr/bin/env python3
"""Baseline for `scripts/bench-provision.sh`: Batch Shipyard's perf graph
script (cascade/graph.py) on its own data path, with the table query
replaced by the entities of a JSON-lines export.

Everything the script does from the entities to the gnuplot data file is
kept as it is (its parsing, pairing, timings, sizes, ordering and the .dat
file); only the call to gnuplot is left out. Like the script, it raises on a
missing end event, so run it on a pool without faults.

    python3 bench/baseline_provision.py events.jsonl [OUT.dat]
"""
import datetime
import json
import sys
import time


def _compute_delta_t(data, nodeid, event1, event1_pos, event2, event2_pos):
    try:
        return data[nodeid][event2][event2_pos]['message']['diff']
    except (TypeError, KeyError):
        return (data[nodeid][event2][event2_pos]['timestamp'] -
                data[nodeid][event1][event1_pos]['timestamp']).total_seconds()


def _parse_message(event, msg):
    parts = msg.split(',')
    m = {}
    for part in parts:
        tmp = part.split('=')
        if tmp[0] == 'size':
            if event == 'cascade:pull-end':
                sz = tmp[1].split()
                sz[0] = float(sz[0])
                if sz[1] == 'kB':
                    sz[0] *= 1024
                elif sz[1] == 'MB':
                    sz[0] *= 1024 * 1024
                elif sz[1] == 'GB':
                    sz[0] *= 1024 * 1024 * 1024
                elif sz[1] == 'TB':
                    sz[0] *= 1024 * 1024 * 1024 * 1024
                tmp[1] = sz[0]
            m[tmp[0]] = int(tmp[1])
        elif tmp[0] == 'nglobalresources':
            m[tmp[0]] = int(tmp[1])
        elif tmp[0] == 'diff':
            m[tmp[0]] = float(tmp[1])
        else:
            m[tmp[0]] = tmp[1]
    return m


def _diff_events(data, nodeid, event, end_event, timing, prefix, sizes=None):
    for i in range(0, len(data[nodeid][event])):
        if (event == 'cascade:torrent-start' and
                end_event == 'cascade:load-start' and
                end_event not in data[nodeid]):
            return
        subevent = data[nodeid][event][i]
        img = subevent['message']['img']
        found = False
        for j in range(0, len(data[nodeid][end_event])):
            pei = data[nodeid][end_event][j]['message']['img']
            if pei == img:
                timing[prefix + img] = _compute_delta_t(
                    data, nodeid, event, i, end_event, j)
                if sizes is not None and img not in sizes:
                    try:
                        if event == 'cascade:load-start':
                            sizes[img] = data[nodeid][event][j]['message']['size']
                        else:
                            sizes[img] = data[nodeid][end_event][j]['message']['size']
                    except KeyError:
                        pass
                found = True
                break
        if not found and event != 'cascade:torrent-start':
            raise RuntimeError(
                'could not find corresponding event for {}:{}'.format(event, img))


def coalesce_data(entities):
    data = {}
    for ent in entities:
        nodeid = ent['NodeId']
        event = ent['Event']
        if nodeid not in data:
            data[nodeid] = {}
        if event not in data[nodeid]:
            data[nodeid][event] = []
        ev = {'timestamp': datetime.datetime.fromtimestamp(float(ent['RowKey']))}
        try:
            ev['message'] = _parse_message(event, ent['Message'])
        except KeyError:
            ev['message'] = None
        data[nodeid][event].append(ev)
    sizes = {}
    offer = None
    sku = None
    for nodeid in data:
        if offer is None:
            offer = data[nodeid]['nodeprep:start'][0]['message']['offer']
            sku = data[nodeid]['nodeprep:start'][0]['message']['sku']
        timing = {
            'nodeprep': _compute_delta_t(data, nodeid, 'nodeprep:start', 0, 'nodeprep:end', 0),
            'global_resources_loaded': _compute_delta_t(
                data, nodeid, 'cascade:start', 0, 'cascade:gr-done', 0),
        }
        try:
            timing['docker_install'] = _compute_delta_t(
                data, nodeid, 'nodeprep:start', 0, 'privateregistry:start', 0)
        except KeyError:
            timing['docker_install'] = timing['nodeprep']
        try:
            timing['private_registry_setup'] = _compute_delta_t(
                data, nodeid, 'privateregistry:start', 0, 'privateregistry:end', 0)
        except KeyError:
            timing['private_registry_setup'] = 0
        try:
            timing['docker_shipyard_container_pull'] = _compute_delta_t(
                data, nodeid, 'shipyard:pull-start', 0, 'shipyard:pull-end', 0)
        except KeyError:
            timing['docker_shipyard_container_pull'] = 0
        data[nodeid]['start'] = data[nodeid]['nodeprep:start'][0]['timestamp'].timestamp()
        for name in ('nodeprep:start', 'nodeprep:end', 'cascade:start', 'cascade:gr-done'):
            data[nodeid].pop(name)
        for name in ('privateregistry:start', 'privateregistry:end',
                     'shipyard:pull-start', 'shipyard:pull-end'):
            data[nodeid].pop(name, None)
        for event in data[nodeid]:
            if event == 'cascade:pull-start':
                _diff_events(data, nodeid, event, 'cascade:pull-end', timing, 'pull:', sizes)
            elif event == 'cascade:save-start':
                _diff_events(data, nodeid, event, 'cascade:save-end', timing, 'save:', sizes)
            elif event == 'cascade:torrent-start':
                _diff_events(data, nodeid, event, 'cascade:load-start', timing, 'torrent:')
            elif event == 'cascade:load-start':
                _diff_events(data, nodeid, event, 'cascade:load-end', timing, 'load:', sizes)
        for name in ('cascade:pull-start', 'cascade:pull-end', 'cascade:save-start',
                     'cascade:save-end', 'cascade:torrent-start', 'cascade:load-start',
                     'cascade:load-end'):
            data[nodeid].pop(name, None)
        data[nodeid]['timing'] = timing
    return data, sizes, offer, sku


def graph_data(data, dat_fname):
    mintime = float(sys.maxsize)
    maxtime = 0.0
    rdata = {}
    for nodeid in data:
        start = data[nodeid]['start']
        if start in rdata:
            raise RuntimeError('cannot create reverse mapping')
        rdata[start] = nodeid
        mintime = min(mintime, start)
        maxtime = max(maxtime, start)
    total_gr = 0
    total_ac = 0
    with open(dat_fname, 'w') as f:
        f.write('NodePrepStartTime NodeId NodePrep+DockerInstall PrivateRegistrySetup '
                'ShipyardContainerPull GlobalResourcesLoad TotalPull TotalSave TotalLoad '
                'TotalTorrent\n')
        for start in sorted(rdata):
            nodeid = rdata[start]
            pull = save = load = torrent = 0
            for event in data[nodeid]['timing']:
                if event.startswith('pull:'):
                    pull += data[nodeid]['timing'][event]
                elif event.startswith('save:'):
                    save += data[nodeid]['timing'][event]
                elif event.startswith('load:'):
                    load += data[nodeid]['timing'][event]
                elif event.startswith('torrent:'):
                    torrent += data[nodeid]['timing'][event]
            total_ac += pull + torrent + load
            t = data[nodeid]['timing']
            f.write('{0} {1} {2} {3} {4} {5} {6:.5f} {7:.5f} {8:.5f} {9:.5f}\n'.format(
                datetime.datetime.fromtimestamp(start).strftime('%Y-%m-%d-%H:%M:%S.%f'),
                nodeid, t['docker_install'], t['private_registry_setup'],
                t['docker_shipyard_container_pull'], t['global_resources_loaded'],
                pull, save, load, torrent))
            total_gr += t['global_resources_loaded']
    return maxtime - mintime, total_gr, total_ac


def main():
    path = sys.argv[1]
    dat = sys.argv[2] if len(sys.argv) > 2 else '/dev/null'
    started = time.perf_counter()
    with open(path) as f:
        entities = [json.loads(line) for line in f if line.strip()]
    data, sizes, offer, sku = coalesce_data(entities)
    spread, total_gr, total_ac = graph_data(data, dat)
    elapsed = time.perf_counter() - started
    print('baseline: {} entities, {} nodes, spread {:.3f} s, total gr {:.1f} s, '
          'total acq {:.1f} s in {:.3f} s'.format(
              len(entities), len(data), spread, total_gr, total_ac, elapsed))


if __name__ == '__main__':
    main()
