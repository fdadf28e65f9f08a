console.log('kts');
