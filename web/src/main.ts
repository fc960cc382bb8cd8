/** The status page: the box's state and controls for an operator on a phone (see App.svelte). */
import { mount } from 'svelte';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import App from './App.svelte';
import './lib/theme.svelte.ts';

mount(App, { target: document.getElementById('app')! });
