# gan_style: every target installs the project into .venv first, so each works on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EXP    ?= demo
RUN    ?= default
RUNS   ?= runs/demo/default
HOST   ?= 127.0.0.1
WEBPORT ?= 7860
ARGS   ?=
DATASET ?= monet2photo
PORT   ?= 6006
FORMAT ?= text
GPUS   ?=

.PHONY: install demo train data eval compare gallery serve quality bench tensorboard test lint format clean help

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: $(VENV)/.installed  ## create .venv and install gan-style with the dev, app, cpu and video extras

$(VENV)/.installed: pyproject.toml setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[dev,app,cpu,video]'
	touch $@

demo: install  ## build the demo data, train the demo experiment (~10 min on 2 CPU cores)
	$(BIN)/gan-style data demo
	$(BIN)/gan-style train demo --run $(RUN) $(ARGS)

train: install  ## train EXP in run RUN, overrides ARGS="k=v ...", on GPUS=N processes (torchrun)
ifeq ($(GPUS),)
	$(BIN)/gan-style train $(EXP) --run $(RUN) $(ARGS)
else
	$(BIN)/torchrun --standalone --nproc_per_node=$(GPUS) -m gan_style.cli -- train $(EXP) --run $(RUN) $(ARGS)
endif

data: install  ## fetch an official dataset: make data DATASET=monet2photo [KIND=pix2pix]
	$(BIN)/gan-style data download $(DATASET) $(if $(KIND),--kind $(KIND))

eval: install  ## score runs/EXP/RUN on its held-out split: make eval EXP=demo [RUN=name]
	$(BIN)/gan-style evaluate runs/$(EXP)/$(RUN) $(ARGS)

compare: install  ## compare every run of EXP: make compare EXP=demo [FORMAT=markdown]
	$(BIN)/gan-style compare runs/$(EXP)/* --format $(FORMAT)

gallery: install  ## HTML gallery of runs/EXP/RUN's checkpoints: make gallery EXP=demo [RUN=name]
	$(BIN)/gan-style gallery runs/$(EXP)/$(RUN) $(ARGS)

serve: install  ## the web page for RUNS="runs/demo/default ..." at http://$(HOST):$(WEBPORT)
	$(BIN)/gan-style serve $(RUNS) --host $(HOST) --port $(WEBPORT)

quality: install  ## quality benchmark, JSON: demo variants x 3 seeds (hours on 2 cores) [ARGS=...]
	$(BIN)/gan-style quality $(ARGS)

bench: install  ## speed benchmark, JSON on stdout: make bench [ARGS=--quick]
	$(BIN)/gan-style bench $(ARGS)

tensorboard: install  ## serve every run under runs/ at http://localhost:$(PORT)
	$(BIN)/tensorboard --logdir runs --port $(PORT)

test: install  ## run the test suite (CPU, under 15 minutes on 2 cores)
	$(BIN)/pytest

lint: install  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:  ## remove caches (keeps .venv, data and runs)
	rm -rf .pytest_cache .ruff_cache build dist *.egg-info
